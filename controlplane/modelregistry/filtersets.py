"""One FilterSet per model-registry list; the page and the API list share it."""

import django_filters

from controlplane.modelregistry.models import DeploymentApproval, DeploymentStatus, MLModel
from controlplane.web.lists import ListFilterSet, ordering_filter, region_filter, status_filter


class MLModelFilterSet(ListFilterSet):
    """The models page (model x region matrix) and ``/api/v1/models/``."""

    search_fields = ("name", "purpose", "owner_team")
    team = django_filters.CharFilter(
        field_name="owner_team", lookup_expr="iexact", label="Owner team"
    )
    ordering = ordering_filter(
        ("name", "name", "Model"),
        ("team", "owner_team", "Owner team"),
        ("created", "created_at", "Created"),
    )

    class Meta:
        model = MLModel
        fields = []


class DeploymentFilterSet(ListFilterSet):
    """The deployment queue, "my deployment requests" and ``/api/v1/deployments/``."""

    search_fields = ("version__model__name", "version__version", "region__slug", "justification")
    status = status_filter(DeploymentStatus.choices)
    region = region_filter()
    model = django_filters.CharFilter(
        field_name="version__model__name", lookup_expr="iexact", label="Model"
    )
    ordering = ordering_filter(
        ("requested", "requested_at", "Requested"),
        ("decided", "decided_at", "Decided"),
        ("region", "region__slug", "Region"),
        ("model", "version__model__name", "Model version"),
        ("status", "status", "Status"),
    )

    class Meta:
        model = DeploymentApproval
        fields = []
