"""The agents' own endpoints, mounted first in the root URLconf: the poll path resolves fast."""

from django.urls import path

from controlplane.distribution.api import views

urlpatterns = [
    path("bundle", views.bundle, name="agent-bundle"),
    path("status", views.StatusView.as_view(), name="agent-status"),
    path("transfers", views.TransfersView.as_view(), name="agent-transfers"),
]
