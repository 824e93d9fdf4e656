"""Agents in trouble for longer than a set time (see controlplane.notifications.registry)."""

from datetime import timedelta

from django.conf import settings

from controlplane.distribution import drift, selectors
from controlplane.notifications.registry import Draft, periodic
from controlplane.notifications.services import lasting
from controlplane.permissions import people_who_can
from regions.models import Agent

TROUBLE = {
    drift.OUT_OF_SYNC: "is out of sync",
    drift.FAILED: "refuses its bundle",
    drift.UNKNOWN: "has not reported",
}


@periodic
def agents_in_trouble(now):
    agents = selectors.agents_with_drift(Agent.objects.all(), now=now)
    troubled = {f"agent:{a.pk}:{a.live_drift}": a for a in agents if a.live_drift in TROUBLE}
    after = timedelta(minutes=settings.NOTIFY_AGENT_TROUBLE_MINUTES)
    drafts = []
    for agent in lasting(troubled, scope="agent:", now=now, after=after):
        people = set(people_who_can("approve_deployments", agent.region))
        people |= set(people_who_can("approve_transfers", agent.region))
        reason = (
            f" ({agent.last_error_code}: {agent.last_error[:200]})" if agent.last_error_code else ""
        )
        drafts.append(
            Draft(
                recipients=tuple(people),
                kind="agent_trouble",
                title=f"Agent {agent.name} in {agent.region.slug} {TROUBLE[agent.live_drift]}",
                body=f"For more than {settings.NOTIFY_AGENT_TROUBLE_MINUTES} minutes{reason}.",
                url=f"/agents/{agent.pk}/",
                region=agent.region.slug,
                key=f"agent:{agent.pk}:{agent.live_drift}:{now:%Y%m%d%H%M}",
            )
        )
    return drafts
