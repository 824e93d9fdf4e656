"""What in the transfer register deserves a notice (see controlplane.notifications.registry)."""

from controlplane.notifications.registry import Draft, on
from controlplane.permissions import Role, people_who_can
from controlplane.transfers.models import IN_EFFECT, Mechanism, TransferRequest, TransferStatus


def _request(event):
    return (
        TransferRequest.objects.select_related(
            "source_region", "destination_country", "requested_by"
        )
        .filter(pk=event.object_id)
        .first()
    )


@on("transfer.submitted")
def request_awaits_decision(event):
    tr = _request(event)
    if tr is None:
        return []
    deciders = [
        u
        for u in people_who_can("approve_transfers", tr.source_region)
        if u.pk != tr.requested_by_id
    ]
    return [
        Draft(
            recipients=tuple(deciders),
            kind="awaiting_decision",
            title=f"{tr} awaits your decision: {tr.source_region.slug} → {tr.destination_country.name}",
            body=f"Requested by {tr.requested_by}. Purpose: {tr.purpose[:200]}",
            url=tr.get_absolute_url(),
            region=tr.source_region.slug,
            key=f"audit:{event.sequence}",
        )
    ]


@on("transfer.suspended", "transfer.revoked", "transfer.expired")
def transfer_ended(event):
    tr = _request(event)
    if tr is None:
        return []
    verb = {
        TransferStatus.SUSPENDED: "was suspended",
        TransferStatus.REVOKED: "was revoked",
        TransferStatus.EXPIRED: "expired",
    }.get(tr.status, "ended")
    people = list(people_who_can("approve_transfers", tr.source_region))
    if tr.requested_by and tr.requested_by.is_active:
        people.append(tr.requested_by)
    return [
        Draft(
            recipients=tuple(people),
            kind="transfer_suspended",
            title=f"{tr} {verb}: {tr.source_region.slug} → {tr.destination_country.name}",
            body=tr.end_reason or (event.data or {}).get("reason", ""),
            url=tr.get_absolute_url(),
            region=tr.source_region.slug,
            key=f"audit:{event.sequence}",
        )
    ]


@on("mechanism.expiry_warning")
def mechanism_ending(event):
    from django.contrib.auth import get_user_model

    m = Mechanism.objects.filter(pk=event.object_id).first()
    if m is None:
        return []
    relying = (
        TransferRequest.objects.filter(policy_mechanism=m, status__in=IN_EFFECT)
        .select_related("source_region")
        .order_by()
    )
    regions = {tr.source_region for tr in relying}
    people = {u for region in regions for u in people_who_can("approve_transfers", region)}
    if not people:  # nothing relies on it yet: every DPO keeps the register
        people = set(get_user_model().objects.filter(groups__name=Role.DPO, is_active=True))
    data = event.data or {}
    return [
        Draft(
            recipients=tuple(people),
            kind="mechanism_ending",
            title=f"{m.name}: {data.get('what', 'ends')} on {data.get('date', m.ends_on)}",
            body=f"{len(relying)} transfer(s) in effect rely on it.",
            url=m.get_absolute_url(),
            key=f"audit:{event.sequence}",
        )
    ]
