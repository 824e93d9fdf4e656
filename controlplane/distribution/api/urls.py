"""People's read-only view of agents and their drift (the agents' own API is agent_urls)."""

from controlplane.api.routers import SimpleRouter
from controlplane.distribution.api import people

router = SimpleRouter()
router.register("agents", people.AgentViewSet, basename="agent")

urlpatterns = router.urls
