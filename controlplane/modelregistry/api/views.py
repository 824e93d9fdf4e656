"""The registry's API: ML pipelines register versions and request deployments; DPOs decide.

Thin: reads go through selectors and ``restrict()``, writes through the services, and domain
errors through the shared exception handler (400 / 403 / 409).
"""

from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from controlplane.api.permissions import PeopleOnly
from controlplane.decisions import answer_after_commit, fallback_answer
from controlplane.modelregistry import selectors, services
from controlplane.modelregistry.api import serializers as s
from controlplane.modelregistry.filtersets import DeploymentFilterSet, MLModelFilterSet
from controlplane.modelregistry.models import (
    ArtifactLocation,
    DeploymentApproval,
    MLModel,
    ModelVersion,
)
from controlplane.permissions import restrict


class Registrars(PeopleOnly):
    """Reading is for every person; registering models and versions and asking for
    deployments is for ML engineers (checked before the body is read)."""

    message = "Only ML engineers register models and request deployments."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        return request.method in SAFE_METHODS or services.may_register(request.user)


VERSION_QUERYSET = ModelVersion.objects.select_related(
    "model", "base_version__model"
).prefetch_related(
    "training_jurisdictions",
    "data_categories",
    "participating_regions",
    Prefetch("artifacts", queryset=ArtifactLocation.objects.select_related("region")),
)


class ModelList(generics.ListCreateAPIView):
    permission_classes = [Registrars]
    queryset = MLModel.objects.order_by("name")
    serializer_class = s.MLModelSerializer
    filterset_class = MLModelFilterSet

    def perform_create(self, serializer):
        serializer.instance = services.model_create(
            **serializer.validated_data, by=self.request.user
        )


class ModelDetail(generics.RetrieveAPIView):
    queryset = MLModel.objects.all()
    serializer_class = s.MLModelSerializer
    lookup_field = "name"


class VersionList(generics.ListAPIView):
    """``GET`` lists a model's versions; ``POST`` registers one with its digest and lineage."""

    permission_classes = [Registrars]

    serializer_class = s.ModelVersionSerializer

    def get_model(self) -> MLModel:
        return get_object_or_404(MLModel, name=self.kwargs["name"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no URL kwargs
            return ModelVersion.objects.none()
        return VERSION_QUERYSET.filter(model=self.get_model()).order_by("-registered_at", "-pk")

    def get_serializer_class(self):
        if self.request.method == "POST":
            return s.VersionRegistrationSerializer
        return s.ModelVersionSerializer

    def post(self, request, name):
        model = self.get_model()
        incoming = s.VersionRegistrationSerializer(data=request.data, context={"model": model})
        incoming.is_valid(raise_exception=True)
        mv = services.version_register(model=model, **incoming.validated_data, by=request.user)
        out = s.ModelVersionSerializer(VERSION_QUERYSET.get(pk=mv.pk))
        return Response(out.data, status=status.HTTP_201_CREATED)


class VersionDetail(generics.RetrieveAPIView):
    serializer_class = s.ModelVersionSerializer

    def get_object(self):
        return get_object_or_404(
            VERSION_QUERYSET, model__name=self.kwargs["name"], version=self.kwargs["version"]
        )


DEPLOYMENTS = DeploymentApproval.objects.select_related(
    "version__model", "region", "requested_by", "decided_by"
)


class VersionDeployments(generics.ListAPIView):
    """``GET`` the version's deployments in your regions; ``POST {region}`` requests one."""

    permission_classes = [Registrars]

    serializer_class = s.DeploymentSerializer

    def get_version(self) -> ModelVersion:
        return get_object_or_404(
            ModelVersion.objects.select_related("model"),
            model__name=self.kwargs["name"],
            version=self.kwargs["version"],
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no URL kwargs
            return DeploymentApproval.objects.none()
        return restrict(DEPLOYMENTS.filter(version=self.get_version()), self.request.user, "view")

    def get_serializer_class(self):
        if self.request.method == "POST":
            return s.DeploymentRequestSerializer
        return s.DeploymentSerializer

    def post(self, request, name, version):
        mv = self.get_version()
        incoming = s.DeploymentRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        approval = services.deployment_request(
            version=mv, **incoming.validated_data, by=request.user
        )
        return Response(
            s.DeploymentSerializer(DEPLOYMENTS.get(pk=approval.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class DeploymentList(generics.ListAPIView):
    """Deployments in your regions, filtered like the deployments page (``?status=``,
    ``?region=``, ``?model=``, ``?q=``, ``?ordering=``)."""

    serializer_class = s.DeploymentSerializer
    filterset_class = DeploymentFilterSet

    def get_queryset(self):
        return restrict(DEPLOYMENTS, self.request.user, "view").order_by("-requested_at", "-pk")


def _approval(request, pk) -> DeploymentApproval:
    try:
        return selectors.approval_for_page(request.user, pk)
    except DeploymentApproval.DoesNotExist:
        raise Http404 from None


class DeploymentDetail(generics.RetrieveAPIView):
    """One deployment's status and the cross-border check's findings."""

    serializer_class = s.DeploymentSerializer

    def get_object(self):
        return _approval(self.request, self.kwargs["pk"])


class DeploymentDecide(generics.GenericAPIView):
    """``POST {"decision": "approve"|"reject", "note": "...", "confirmed": [codes]}``."""

    serializer_class = s.DecisionSerializer

    @extend_schema(request=s.DecisionSerializer, responses=s.DeploymentSerializer)
    def post(self, request, pk):
        approval = _approval(request, pk)
        services.ensure_may_decide(approval=approval, by=request.user)
        incoming = s.DecisionSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        if data["decision"] == "approve":
            decided = services.deployment_approve(
                approval=approval, by=request.user, note=data["note"], confirmed=data["confirmed"]
            )
        else:
            decided = services.deployment_reject(
                approval=approval, by=request.user, reason=data["note"]
            )
        return Response(
            answer_after_commit(
                lambda: s.DeploymentSerializer(DEPLOYMENTS.get(pk=approval.pk)).data,
                lambda: fallback_answer(decided, confirmed=decided.confirmed),
            )
        )


class DeploymentRetire(generics.GenericAPIView):
    """Retire an approved deployment; retiring the desired one rolls the region back."""

    serializer_class = s.RetireSerializer

    @extend_schema(request=s.RetireSerializer, responses=s.DeploymentSerializer)
    def post(self, request, pk):
        approval = _approval(request, pk)
        incoming = s.RetireSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        services.deployment_retire(
            approval=approval, by=request.user, reason=incoming.validated_data["reason"]
        )
        return Response(s.DeploymentSerializer(DEPLOYMENTS.get(pk=approval.pk)).data)
