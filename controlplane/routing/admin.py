from django.contrib import admin

from controlplane.routing.models import ServedModel
from regions.admin import AuditedModelAdmin


@admin.register(ServedModel)
class ServedModelAdmin(AuditedModelAdmin):
    list_display = ["endpoint", "model"]
    list_select_related = ["endpoint__region", "model"]
