"""The agent API. The bundle endpoint is a plain Django view: its 304 path must stay tiny."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import protocol
from controlplane.api.parsers import JSONParser
from controlplane.distribution import repository, services, transfer_log
from controlplane.distribution.api.authentication import (
    AgentTokenAuthentication,
    IsAgent,
    bearer_token,
)
from controlplane.distribution.keys import KeyMaterialMissing
from controlplane.distribution.transfer_log import PayloadSerializer
from controlplane.privacy import refuse_personal_data

_NOT_FOUND = {"detail": "Not found."}


def _principal_or_401(request):
    principal = services.authenticate_agent(bearer_token(request), memo=True)
    if principal is None:
        response = JsonResponse({"detail": "Unknown or revoked agent token."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="agent"'
        return None, response
    return principal, None


def _json(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def tuf_metadata(request, name: str):
    """TUF metadata for agents: ``timestamp.json`` (the poll, answered from memory when
    unchanged) and ``<version>.<role>.json`` (consistent snapshots). A region's role is served
    only to that region's agents."""
    principal, refusal = _principal_or_401(request)
    if refusal:
        return refusal
    try:
        if name == "timestamp.json":
            data = services.current_timestamp(memo=True)
        else:
            version, _, rest = name.partition(".")
            role = rest.removesuffix(".json")
            if not version.isdigit() or not rest.endswith(".json") or len(version) > 9:
                return JsonResponse(_NOT_FOUND, status=404)
            if role not in repository.TOP_LEVEL and role != principal.region_slug:
                return JsonResponse(_NOT_FOUND, status=404)
            data = services.metadata_file(role, int(version))
    except KeyMaterialMissing as exc:
        return JsonResponse({"detail": str(exc), "code": exc.code}, status=503)
    if data is None:
        return JsonResponse(_NOT_FOUND, status=404)
    return _json(data)


@require_safe
def tuf_target(request, region: str, name: str):
    """``targets/<region>/<sha256>.bundle.json``: the bundle, only for the region's agents."""
    principal, refusal = _principal_or_401(request)
    if refusal:
        return refusal
    digest, _, rest = name.partition(".")
    if region != principal.region_slug or rest != protocol.BUNDLE_TARGET or len(digest) != 64:
        return JsonResponse(_NOT_FOUND, status=404)
    data = services.target_file(principal.region_id, digest.lower())
    if data is None:
        return JsonResponse(_NOT_FOUND, status=404)
    return _json(data)


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40)
    message = serializers.CharField(
        max_length=2000, allow_blank=True, validators=[refuse_personal_data]
    )


class StatusSerializer(serializers.Serializer):
    region = serializers.CharField(required=False)
    applied_version = serializers.IntegerField(min_value=1, allow_null=True, required=False)
    applied_digest = serializers.RegexField(
        r"^sha256:[0-9a-f]{64}$", allow_null=True, required=False
    )
    agent_version = serializers.CharField(max_length=40, allow_blank=True, required=False)
    last_error = ErrorSerializer(allow_null=True, required=False)
    expires = serializers.DateTimeField(allow_null=True, required=False)
    expired = serializers.BooleanField(required=False)
    last_refresh_at = serializers.DateTimeField(allow_null=True, required=False)
    last_refresh_ok = serializers.BooleanField(required=False)


class StatusAnswerSerializer(serializers.Serializer):
    drift = serializers.CharField()
    desired_version = serializers.IntegerField(allow_null=True)
    desired_digest = serializers.CharField(allow_null=True)


class RecordResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    violation = serializers.BooleanField()
    violation_reason = serializers.CharField()


class TransfersAnswerSerializer(serializers.Serializer):
    records = RecordResultSerializer(many=True)


class AgentAPIView(APIView):
    authentication_classes = [AgentTokenAuthentication]
    permission_classes = [IsAgent]
    parser_classes = [JSONParser]  # agents speak JSON only; anything else is a 415


class StatusView(AgentAPIView):
    @extend_schema(request=StatusSerializer, responses=StatusAnswerSerializer)
    def post(self, request):
        serializer = StatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("region") not in (None, request.user.region_slug):
            return Response(
                {"detail": "This token belongs to another region."},
                status=status.HTTP_403_FORBIDDEN,
            )
        agent = services.agent_report_status(principal=request.user, data=data)
        return Response(
            {
                "drift": agent.drift,
                "desired_version": agent.desired_version,
                "desired_digest": agent.desired_digest,
            }
        )


class TransfersView(AgentAPIView):
    """Transfer records executed in the agent's region, handed to the transfer register."""

    @extend_schema(request=PayloadSerializer, responses={201: TransfersAnswerSerializer})
    def post(self, request):
        result = transfer_log.record_from_agent(principal=request.user, data=request.data)
        return Response(result, status=status.HTTP_201_CREATED)
