"""What in the model registry deserves a notice (see controlplane.notifications.registry)."""

from django.contrib.auth import get_user_model

from controlplane.modelregistry.models import DeploymentApproval
from controlplane.notifications.registry import Draft, on
from controlplane.permissions import people_who_can


@on("deployment.requested")
def deployment_awaits_decision(event):
    approval = (
        DeploymentApproval.objects.select_related("version__model", "region", "requested_by")
        .filter(pk=event.object_id)
        .first()
    )
    if approval is None:
        return []
    deciders = [
        u
        for u in people_who_can("approve_deployments", approval.region)
        if u.pk != approval.requested_by_id
    ]
    return [
        Draft(
            recipients=tuple(deciders),
            kind="awaiting_decision",
            title=f"{approval}: {approval.version} to {approval.region.slug} awaits your decision",
            body=approval.justification[:300],
            url=approval.get_absolute_url(),
            region=approval.region.slug,
            key=f"audit:{event.sequence}",
        )
    ]


@on("deployment.withdrawal_notice")
def deployments_withdrawn(event):
    """The registry names the region's DPOs in the event; each gets the notice."""
    data = event.data or {}
    names = data.get("recipients") or []
    people = get_user_model().objects.filter(username__in=names, is_active=True)
    withdrawn = data.get("withdrawn") or []
    because = ", ".join(data.get("because") or []) or "its transfer basis ended"
    region = data.get("region", event.object_repr)
    return [
        Draft(
            recipients=tuple(people),
            kind="deployment_withdrawn",
            title=f"{len(withdrawn)} deployment(s) withdrawn in {region}",
            body=f"{', '.join(withdrawn)} — because {because}.",
            url=f"/regions/{region}/",
            region=region,
            key=f"audit:{event.sequence}",
        )
    ]
