from django.contrib import admin, messages
from django.db import models

from controlplane.distribution import services
from controlplane.distribution.models import ConfigBundle, Delivery, DeliveryAttempt
from controlplane.web.admin import ReadOnlyAdmin
from regions.models import Agent


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    """Enrolment shows the token once, so it happens on the Agents page, not here."""

    list_display = ["name", "region", "drift", "applied_version", "last_seen", "revoked_at"]
    list_filter = ["region", "drift"]
    list_select_related = ["region"]
    readonly_fields = [
        "token_hint",
        "last_seen",
        "applied_version",
        "applied_digest",
        "software_version",
        "last_error_code",
        "last_error",
        "reported_at",
        "last_refresh_at",
        "trust_expires",
        "drift",
        "created_by",
        "revoked_at",
    ]
    fields = ["region", "name", "callback_url", "poll_interval", *readonly_fields]
    actions = ["revoke"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "region"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        services.agent_update(agent=obj, by=request.user)

    @admin.action(description="Revoke the selected agents")
    def revoke(self, request, queryset):
        for agent in queryset:
            services.agent_revoke(agent=agent, by=request.user)
        messages.success(request, f"{queryset.count()} agent(s) revoked.")


@admin.register(ConfigBundle)
class ConfigBundleAdmin(ReadOnlyAdmin):
    list_display = ["region", "version", "digest", "issued", "expires", "reason"]
    list_filter = ["region"]
    list_select_related = ["region"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["bundle", "agent", "state", "attempts", "next_attempt_at"]
    list_filter = ["state"]
    list_select_related = ["bundle__region", "agent__region"]


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdmin):
    list_display = ["delivery", "number", "started_at", "ok", "http_status", "duration_ms"]
    list_filter = ["ok"]
