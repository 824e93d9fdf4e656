from django.urls import path

from controlplane.web import audit_trail

app_name = "audit"
urlpatterns = [path("", audit_trail.event_list, name="list")]
