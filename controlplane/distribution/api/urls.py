from django.urls import path
from rest_framework.routers import SimpleRouter

from controlplane.distribution.api import people, views

router = SimpleRouter()
router.register("agents", people.AgentViewSet, basename="agent")

urlpatterns = [
    path("agent/bundle", views.bundle, name="agent-bundle"),
    path("agent/status", views.StatusView.as_view(), name="agent-status"),
    path("agent/transfers", views.TransfersView.as_view(), name="agent-transfers"),
    *router.urls,
]
