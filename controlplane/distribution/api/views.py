"""The agent API. The bundle endpoint is a plain Django view: its 304 path must stay tiny."""

import time

from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import protocol
from controlplane.distribution import conf, services, transfer_log
from controlplane.distribution.api.authentication import (
    AgentTokenAuthentication,
    IsAgent,
    bearer_token,
)
from controlplane.distribution.signing import KeyMaterialMissing
from controlplane.distribution.transfer_log import PayloadSerializer
from controlplane.privacy import refuse_personal_data

LONG_POLL_STEP = 0.25


def _etags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/").strip('"') for part in header.split(",") if part}


def _wait_seconds(prefer: str) -> float:
    for part in prefer.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "wait" and value.strip().isdigit():
            return float(min(int(value), conf.long_poll_max()))
    return 0.0


def _with_head(response: HttpResponse, head: dict) -> HttpResponse:
    response["ETag"] = f'"{head["digest"]}"'
    response[protocol.FRESHNESS_HEADER] = head["freshness"]
    response["Cache-Control"] = "no-cache"
    return response


@require_safe
def bundle(request):
    principal = services.authenticate_agent(bearer_token(request), memo=True)
    if principal is None:
        response = JsonResponse({"detail": "Unknown or revoked agent token."}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="agent"'
        return response
    try:
        head = services.bundle_head(principal.region_id, memo=True)
    except KeyMaterialMissing as exc:
        return JsonResponse({"detail": str(exc), "code": exc.code}, status=503)
    if head is None:
        return JsonResponse({"detail": "No bundle has been published for this region."}, status=404)
    known = _etags(request.META.get("HTTP_IF_NONE_MATCH", ""))
    if head["digest"] in known:
        deadline = time.monotonic() + _wait_seconds(request.META.get("HTTP_PREFER", ""))
        while time.monotonic() < deadline:
            time.sleep(LONG_POLL_STEP)
            head = services.bundle_head(principal.region_id)
            if head["digest"] not in known:
                break
        else:
            return _with_head(HttpResponse(status=304), head)
    body = services.bundle_body(principal.region_id, head["digest"])
    return _with_head(HttpResponse(body, content_type="application/json"), head)


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
    bundle_expires = serializers.CharField(allow_null=True, required=False)
    expired = serializers.BooleanField(required=False)


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
        head = services.bundle_head(agent.region_id)
        return Response(
            {
                "drift": agent.drift,
                "desired_version": head["version"] if head else None,
                "desired_digest": head["digest"] if head else None,
            }
        )


class TransfersView(AgentAPIView):
    """Transfer records executed in the agent's region, handed to the transfer register."""

    @extend_schema(request=PayloadSerializer, responses={201: TransfersAnswerSerializer})
    def post(self, request):
        result = transfer_log.record_from_agent(principal=request.user, data=request.data)
        return Response(result, status=status.HTTP_201_CREATED)
