"""What in the transfer register deserves a notice (see controlplane.notifications.registry).

Each hook receives the events of one audit write (thousands when a mechanism ends) and reads
what it needs for all of them at once: the requests in one query, each region's deciders once.
"""

from controlplane.notifications.registry import Draft, on
from controlplane.permissions import Role, people_who_can
from controlplane.transfers.models import IN_EFFECT, Mechanism, TransferRequest, TransferStatus


def _requests(events) -> dict[str, TransferRequest]:
    """The requests the events are about, by the events' ``object_id``."""
    ids = {e.object_id for e in events if e.object_id.isdigit()}
    return {
        str(tr.pk): tr
        for tr in TransferRequest.objects.select_related(
            "source_region", "destination_country", "requested_by"
        ).filter(pk__in=ids)
    }


class _Deciders(dict):
    """``people_who_can(action, region)``, asked once per region."""

    def __init__(self, action: str):
        super().__init__()
        self.action = action

    def __missing__(self, region):
        self[region] = people = people_who_can(self.action, region)
        return people


@on("transfer.submitted")
def request_awaits_decision(events):
    requests = _requests(events)
    deciders = _Deciders("approve_transfers")
    drafts = []
    for event in events:
        tr = requests.get(event.object_id)
        if tr is None:
            continue
        drafts.append(
            Draft(
                recipients=tuple(
                    u for u in deciders[tr.source_region] if u.pk != tr.requested_by_id
                ),
                kind="awaiting_decision",
                title=f"{tr} awaits your decision: {tr.source_region.slug} → "
                f"{tr.destination_country.name}",
                body=f"Requested by {tr.requested_by}. Purpose: {tr.purpose[:200]}",
                url=tr.get_absolute_url(),
                region=tr.source_region.slug,
                key=f"audit:{event.sequence}",
            )
        )
    return drafts


@on("transfer.suspended", "transfer.revoked", "transfer.expired")
def transfer_ended(events):
    requests = _requests(events)
    deciders = _Deciders("approve_transfers")
    drafts = []
    for event in events:
        tr = requests.get(event.object_id)
        if tr is None:
            continue
        verb = {
            TransferStatus.SUSPENDED: "was suspended",
            TransferStatus.REVOKED: "was revoked",
            TransferStatus.EXPIRED: "expired",
        }.get(tr.status, "ended")
        people = list(deciders[tr.source_region])
        if tr.requested_by and tr.requested_by.is_active:
            people.append(tr.requested_by)
        drafts.append(
            Draft(
                recipients=tuple(people),
                kind="transfer_suspended",
                title=f"{tr} {verb}: {tr.source_region.slug} → {tr.destination_country.name}",
                body=tr.end_reason or (event.data or {}).get("reason", ""),
                url=tr.get_absolute_url(),
                region=tr.source_region.slug,
                key=f"audit:{event.sequence}",
            )
        )
    return drafts


@on("mechanism.expiry_warning")
def mechanism_ending(events):
    from django.contrib.auth import get_user_model

    deciders = _Deciders("approve_transfers")
    drafts = []
    for event in events:
        m = Mechanism.objects.filter(pk=event.object_id).first()
        if m is None:
            continue
        relying = (
            TransferRequest.objects.filter(policy_mechanism=m, status__in=IN_EFFECT)
            .select_related("source_region")
            .order_by()
        )
        regions = {tr.source_region for tr in relying}
        people = {u for region in regions for u in deciders[region]}
        if not people:  # nothing relies on it yet: every DPO keeps the register
            people = set(get_user_model().objects.filter(groups__name=Role.DPO, is_active=True))
        data = event.data or {}
        drafts.append(
            Draft(
                recipients=tuple(people),
                kind="mechanism_ending",
                title=f"{m.name}: {data.get('what', 'ends')} on {data.get('date', m.ends_on)}",
                body=f"{len(relying)} transfer(s) in effect rely on it.",
                url=m.get_absolute_url(),
                key=f"audit:{event.sequence}",
            )
        )
    return drafts
