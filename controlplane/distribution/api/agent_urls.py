"""The agents' own endpoints, mounted first in the root URLconf.

The TUF files are spliced into the root URLconf with their full paths (``tuf_urlpatterns``):
the poll (``tuf/timestamp.json``) then resolves in one step, before every other route.
"""

from django.urls import path

from controlplane.distribution.api import views

PREFIX = "api/v1/agent/"

tuf_urlpatterns = [
    path(PREFIX + "tuf/<str:name>", views.tuf_metadata, name="agent-tuf"),
    path(
        PREFIX + "tuf/targets/<slug:region>/<str:name>",
        views.tuf_target,
        name="agent-tuf-target",
    ),
]

urlpatterns = [
    path("status", views.StatusView.as_view(), name="agent-status"),
    path("transfers", views.TransfersView.as_view(), name="agent-transfers"),
]
