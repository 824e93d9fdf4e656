from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from regions.models import (
    Country,
    DataCategory,
    DataStore,
    InferenceEndpoint,
    Jurisdiction,
    KeyReference,
    Region,
    ResidencyRule,
)
from regions.services import estate_object_delete, estate_object_save


class AuditedAdminMixin:
    """Admin edits go through the audited services like every other write."""

    def save_model(self, request, obj, form, change):
        estate_object_save(instance=obj, by=request.user)

    def delete_model(self, request, obj):
        estate_object_delete(instance=obj, by=request.user)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            estate_object_delete(instance=obj, by=request.user)


class AuditedModelAdmin(AuditedAdminMixin, admin.ModelAdmin):
    pass


class AuditedGuardedModelAdmin(AuditedAdminMixin, GuardedModelAdmin):
    pass


@admin.register(Jurisdiction)
class JurisdictionAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "law"]
    search_fields = ["code", "name"]


@admin.register(Country)
class CountryAdmin(AuditedModelAdmin):
    list_display = ["code", "name", "jurisdiction"]
    list_filter = ["jurisdiction"]
    search_fields = ["code", "name"]
    list_select_related = ["jurisdiction"]


@admin.register(Region)
class RegionAdmin(AuditedGuardedModelAdmin):
    """Object permissions (view_region, approve_transfers, approve_deployments) are granted here."""

    list_display = [
        "slug",
        "name",
        "jurisdiction",
        "provider",
        "cloud_region",
        "metrics_k",
        "metrics_epsilon",
    ]
    list_filter = ["provider", "jurisdiction"]
    list_select_related = ["jurisdiction"]
    autocomplete_fields = ["country"]


@admin.register(KeyReference)
class KeyReferenceAdmin(AuditedModelAdmin):
    list_display = ["name", "region", "key_provider", "uri"]
    list_filter = ["region", "key_provider"]
    list_select_related = ["region"]


@admin.register(DataStore)
class DataStoreAdmin(AuditedModelAdmin):
    list_display = ["name", "region", "kind", "retention_days"]
    list_filter = ["region", "kind"]
    list_select_related = ["region"]


@admin.register(InferenceEndpoint)
class InferenceEndpointAdmin(AuditedModelAdmin):
    list_display = ["name", "region", "url"]
    list_select_related = ["region"]


@admin.register(DataCategory)
class DataCategoryAdmin(AuditedModelAdmin):
    list_display = ["key", "name", "is_special_category", "is_criminal_offence_data"]
    list_filter = ["is_special_category"]
    search_fields = ["key", "name"]


@admin.register(ResidencyRule)
class ResidencyRuleAdmin(AuditedModelAdmin):
    list_display = [
        "region",
        "position",
        "subject_country",
        "data_category",
        "contract_tag",
        "home_jurisdiction",
    ]
    list_filter = ["region"]
    list_select_related = ["region", "subject_country", "data_category", "home_jurisdiction"]
