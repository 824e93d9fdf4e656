from django.contrib import admin
from django.core.exceptions import PermissionDenied

from controlplane.errors import NotAllowed
from controlplane.transfers.models import Mechanism, Party, TransferRecord, TransferRequest
from controlplane.transfers.services import may_end_mechanism, mechanism_save
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

    def has_change_permission(self, request, obj=None):
        # Changing a mechanism decides for every region relying on it (see may_end_mechanism).
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_end_mechanism(request.user, obj))

    def save_model(self, request, obj, form, change):
        """Nothing here: the row and its many-to-many fields are saved together, through the
        audited service, in ``save_related``."""

    def save_related(self, request, form, formsets, change):
        try:
            mechanism_save(
                mechanism=form.instance,
                by=request.user,
                categories=form.cleaned_data.get("categories"),
                members=form.cleaned_data.get("members"),
                reason="changed in the admin",
            )
        except NotAllowed as error:
            raise PermissionDenied(str(error)) from error

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
