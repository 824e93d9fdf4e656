"""Agent drift on the dashboard and on each region's page (see controlplane.web.panels)."""

from controlplane.distribution import selectors
from controlplane.permissions import restrict
from controlplane.web.panels import Panel, kept_per_person
from regions.models import Agent


# Drift changes by the clock and by heartbeats (bulk updates): up to 10 seconds late here.
@kept_per_person(
    10,
    changed_by=(
        "distribution.ConfigBundle",
        "guardian.UserObjectPermission",
        "guardian.GroupObjectPermission",
    ),
)
def dashboard_panel(request):
    counts = selectors.drift_counts_of(restrict(Agent.objects.all(), request.user, "view"))
    if counts is None:
        return None
    return Panel(
        title="Regional agents",
        template="distribution/_drift_summary.html",
        context={"counts": counts},
        order=40,
    )


def region_panel(request, region):
    agents = selectors.agents_with_drift(Agent.objects.filter(region=region))
    return Panel(
        title="Agents and bundle",
        template="distribution/_region_agents.html",
        context={"agents": agents, "bundle": selectors.latest_bundle(region), "region": region},
        order=40,
    )
