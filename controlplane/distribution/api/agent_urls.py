"""The agents' own endpoints, mounted first in the root URLconf: the poll (tuf/timestamp.json) resolves fast."""

from django.urls import path

from controlplane.distribution.api import views

urlpatterns = [
    path("tuf/targets/<slug:region>/<str:name>", views.tuf_target, name="agent-tuf-target"),
    path("tuf/<str:name>", views.tuf_metadata, name="agent-tuf"),
    path("status", views.StatusView.as_view(), name="agent-status"),
    path("transfers", views.TransfersView.as_view(), name="agent-transfers"),
]
