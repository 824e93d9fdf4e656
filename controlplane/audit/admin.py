from django.contrib import admin

from controlplane.audit.models import AuditChainHead, AuditEvent
from controlplane.web.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "occurred_at", "actor_label", "action", "object_repr"]
    list_filter = ["action", "actor_kind"]
    search_fields = ["actor_label", "action", "object_repr", "object_id"]


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    """Shown for completeness: where the chain ends. Never edited by hand."""

    list_display = ["last_sequence", "last_hash"]
