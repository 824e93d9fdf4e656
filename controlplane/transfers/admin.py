from django.contrib import admin

from controlplane.transfers.models import Mechanism, Party, TransferRecord, TransferRequest
from controlplane.transfers.services import mechanism_save
from controlplane.web.admin import ReadOnlyAdmin
from regions.admin import AuditedModelAdmin


@admin.register(Party)
class PartyAdmin(AuditedModelAdmin):
    list_display = ["name", "country", "role", "certifications"]
    list_filter = ["role"]
    search_fields = ["name"]
    list_select_related = ["country"]
    autocomplete_fields = ["country"]


@admin.register(Mechanism)
class MechanismAdmin(admin.ModelAdmin):
    """Edits are audited; ending a mechanism is done on its page, which suspends dependents."""

    list_display = ["name", "kind", "status", "valid_from", "ends_on", "verified"]
    list_filter = ["kind", "status", "verified", "from_jurisdiction"]
    search_fields = ["name", "key", "reference"]
    list_select_related = ["from_jurisdiction"]
    filter_horizontal = ["members", "categories"]
    autocomplete_fields = ["exporter", "importer", "to_country"]
    readonly_fields = ["status", "status_reason"]

    def save_model(self, request, obj, form, change):
        mechanism_save(mechanism=obj, by=request.user)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TransferRequest)
class TransferRequestAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "source_region", "destination_country", "status", "policy_basis"]
    list_filter = ["status", "policy_basis", "source_region"]
    list_select_related = ["source_region", "destination_country"]


@admin.register(TransferRecord)
class TransferRecordAdmin(ReadOnlyAdmin):
    list_display = ["executed_at", "source_region", "destination_country", "volume", "violation"]
    list_filter = ["violation", "source_region"]
    list_select_related = ["source_region", "destination_country"]
