"""Admin: for looking things up. Writes with business rules go through the services."""

from django.contrib import admin

from controlplane.modelregistry.models import (
    ArtifactLocation,
    DeploymentApproval,
    MLModel,
    ModelVersion,
)
from controlplane.web.admin import ReadOnlyAdmin


@admin.register(MLModel)
class MLModelAdmin(ReadOnlyAdmin):
    list_display = ["name", "owner_team", "created_at"]
    search_fields = ["name", "purpose", "owner_team"]


class ArtifactInline(admin.TabularInline):
    model = ArtifactLocation
    extra = 0
    can_delete = False
    readonly_fields = ["region", "uri", "added_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = [
        "model",
        "version",
        "training_mode",
        "contains_personal_data",
        "base_version",
        "frozen_at",
    ]
    list_filter = ["training_mode", "contains_personal_data", "model"]
    search_fields = ["model__name", "version", "digest"]
    list_select_related = ["model", "base_version__model"]
    inlines = [ArtifactInline]


@admin.register(DeploymentApproval)
class DeploymentApprovalAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "version",
        "region",
        "status",
        "is_desired",
        "policy_allowed",
        "requested_by",
        "decided_by",
    ]
    list_filter = ["status", "is_desired", "policy_allowed", "region"]
    search_fields = ["version__model__name", "version__version"]
    list_select_related = ["version__model", "region", "requested_by", "decided_by"]
