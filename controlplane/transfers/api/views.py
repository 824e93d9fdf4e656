"""Transfer register API. Thin: querysets through restrict()/selectors, writes through services."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from controlplane.decisions import answer_after_commit, fallback_answer
from controlplane.permissions import restrict
from controlplane.transfers import policy as p
from controlplane.transfers import register, selectors, services
from controlplane.transfers.api.serializers import (
    ApproveSerializer,
    EvaluateSerializer,
    MechanismSerializer,
    PartySerializer,
    ReasonSerializer,
    ReinstateSerializer,
    TransferRecordSerializer,
    TransferRequestSerializer,
)
from controlplane.transfers.filtersets import (
    MechanismFilterSet,
    TransferRecordFilterSet,
    TransferRequestFilterSet,
)
from controlplane.transfers.models import Mechanism, Party, TransferRecord, TransferRequest


class SignedInPeople(BasePermission):
    """The dry run changes nothing, so auditors may use it too."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


class EvaluateView(APIView):
    """Dry run: the engine's decision for the given facts. Nothing is saved."""

    permission_classes = [SignedInPeople]

    @extend_schema(request=EvaluateSerializer, responses={200: dict})
    def post(self, request):
        known = register.current()  # mechanisms, countries, categories, regions: see register
        serializer = EvaluateSerializer(
            data=request.data, context={"request": request, "register": known}
        )
        serializer.is_valid(raise_exception=True)
        facts, on = serializer.to_facts()
        mechanisms = known.mechanisms
        what_if = serializer.hypothetical_mechanism(facts)
        if what_if is not None:
            mechanisms = p.MechanismSet([*mechanisms.all, what_if])
        decision = p.evaluate(facts, mechanisms, on, tia_validity=services.tia_validity())
        return Response(decision.as_dict())


class PartyViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Party.objects.select_related("country")
    serializer_class = PartySerializer


class MechanismViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Mechanism.objects.select_related(
        "from_jurisdiction", "to_country", "to_jurisdiction"
    ).prefetch_related("categories")
    serializer_class = MechanismSerializer
    filterset_class = MechanismFilterSet


class TransferRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TransferRequestSerializer
    filterset_class = TransferRequestFilterSet

    def get_queryset(self):
        return selectors.with_request_relations(
            selectors.visible_requests(self.request.user)
        ).order_by("-created_at")

    def perform_create(self, serializer):
        d = dict(serializer.validated_data)
        d["data_categories"] = d.pop("data_categories")
        serializer.instance = services.transfer_request_create(by=self.request.user, **d)

    def _decidable(self, pk):
        try:
            return selectors.decidable_request(self.request.user, pk)
        except selectors.NotYours as error:
            raise PermissionDenied(str(error)) from None
        except TransferRequest.DoesNotExist:
            raise Http404 from None

    def _answer(self, tr):
        """The committed request as it is now; if reading it back fails, what the service
        returned (a committed decision is never answered with an error)."""
        return Response(
            answer_after_commit(
                lambda: TransferRequestSerializer(self.get_queryset().get(pk=tr.pk)).data,
                lambda: fallback_answer(
                    tr, confirmed_conditions=getattr(tr, "confirmed_conditions", [])
                ),
            )
        )

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        tr = self.get_object()
        return self._answer(services.transfer_request_submit(request=tr, by=request.user))

    @extend_schema(request=ApproveSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        tr = self._decidable(pk)
        body = ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(
            services.transfer_request_approve(request=tr, by=request.user, **body.validated_data)
        )

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        tr = self._decidable(pk)
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(
            services.transfer_request_reject(
                request=tr, by=request.user, reason=body.validated_data["reason"]
            )
        )

    @extend_schema(request=ReinstateSerializer)
    @action(detail=True, methods=["post"])
    def reinstate(self, request, pk=None):
        tr = self._decidable(pk)
        body = ReinstateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(
            services.transfer_request_reinstate(
                request=tr, by=request.user, confirmed=body.validated_data["confirmed"]
            )
        )

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        tr = self._decidable(pk)
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(
            services.transfer_request_revoke(
                request=tr, by=request.user, reason=body.validated_data["reason"]
            )
        )


class TransferRecordViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = TransferRecordSerializer
    filterset_class = TransferRecordFilterSet

    def get_queryset(self):
        return restrict(TransferRecord.objects.all(), self.request.user, "view").select_related(
            "source_region", "destination_country", "destination_region"
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        d = serializer.validated_data
        record = services.transfer_record_create(
            by=request.user,
            source_region=d["source_region"],
            destination_country=d["destination_country"],
            destination_region=d.get("destination_region"),
            categories=d["categories"],
            volume=d.get("volume", 0),
            executed_at=d["executed_at"],
            request=d.get("request"),
            exporter_name=d.get("exporter_name", ""),
            importer_name=d.get("importer_name", ""),
            idempotency_key=d.get("idempotency_key"),
        )
        return Response(TransferRecordSerializer(record).data, status=status.HTTP_201_CREATED)
