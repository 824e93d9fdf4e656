"""What in the model registry deserves a notice (see controlplane.notifications.registry)."""

from django.contrib.auth import get_user_model

from controlplane.modelregistry.models import DeploymentApproval
from controlplane.notifications.registry import Draft, on
from controlplane.permissions import PeopleWhoCan


@on("deployment.requested")
def deployment_awaits_decision(events):
    """Each hook gets the events of one audit write (see the registry)."""
    approvals = {
        str(a.pk): a
        for a in DeploymentApproval.objects.select_related(
            "version__model", "region", "requested_by"
        ).filter(pk__in=[e.object_id for e in events if e.object_id.isdigit()])
    }
    deciders = PeopleWhoCan("approve_deployments")
    drafts = []
    for event in events:
        approval = approvals.get(event.object_id)
        if approval is None:
            continue
        drafts.append(
            Draft(
                recipients=tuple(
                    u for u in deciders[approval.region] if u.pk != approval.requested_by_id
                ),
                kind="awaiting_decision",
                title=f"{approval}: {approval.version} to {approval.region.slug} awaits your "
                "decision",
                body=approval.justification[:300],
                url=approval.get_absolute_url(),
                region=approval.region.slug,
                key=f"audit:{event.sequence}",
            )
        )
    return drafts


@on("deployment.withdrawal_notice")
def deployments_withdrawn(events):
    """The registry names the region's DPOs in each event; each gets the notice."""
    names = {n for e in events for n in (e.data or {}).get("recipients") or []}
    people = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    drafts = []
    for event in events:
        data = event.data or {}
        recipients = [
            people[n] for n in data.get("recipients") or [] if n in people and people[n].is_active
        ]
        withdrawn = data.get("withdrawn") or []
        because = ", ".join(data.get("because") or []) or "its transfer basis ended"
        region = data.get("region", event.object_repr)
        drafts.append(
            Draft(
                recipients=tuple(recipients),
                kind="deployment_withdrawn",
                title=f"{len(withdrawn)} deployment(s) withdrawn in {region}",
                body=f"{', '.join(withdrawn)} — because {because}.",
                url=f"/regions/{region}/",
                region=region,
                key=f"audit:{event.sequence}",
            )
        )
    return drafts
