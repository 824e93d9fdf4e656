from django.contrib import admin
from guardian.admin import GuardedModelAdmin

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


class ReadOnlyAdmin(admin.ModelAdmin):
    """For rows that change only through their services (or never): the admin only reads."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
