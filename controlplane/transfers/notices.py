"""What in the transfer register deserves a notice (see controlplane.notifications.registry).

Each hook receives the events of one audit write (thousands when a mechanism ends) and reads
what it needs for all of them at once: the requests in one query, each region's deciders once.
"""

from controlplane.notifications.registry import Draft, on
from controlplane.permissions import PeopleWhoCan, Role
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


@on("transfer.submitted")
def request_awaits_decision(events):
    requests = _requests(events)
    deciders = PeopleWhoCan("approve_transfers")
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


ENDED_VERBS = {
    TransferStatus.SUSPENDED: "was suspended",
    TransferStatus.REVOKED: "was revoked",
    TransferStatus.EXPIRED: "expired",
}
# More transfers than this ended by one write in one region (a mechanism ending): one notice
# per person saying how many and why, linking to the list, instead of one notice per transfer.
ONE_NOTICE_EACH_UP_TO = 10


@on("transfer.suspended", "transfer.revoked", "transfer.expired")
def transfer_ended(events):
    """Tell the source region's deciders and the requester. Reads plain values (ending a
    mechanism ends thousands of transfers in one write)."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from regions.models import Region

    rows = {
        str(pk): (pk, region_id, country, requester, status, end_reason)
        for pk, region_id, country, requester, status, end_reason in TransferRequest.objects.filter(
            pk__in={e.object_id for e in events if e.object_id.isdigit()}
        ).values_list(
            "pk",
            "source_region_id",
            "destination_country__name",
            "requested_by_id",
            "status",
            "end_reason",
        )
    }
    ended = [(event, rows[event.object_id]) for event in events if event.object_id in rows]
    regions = Region.objects.in_bulk({row[1] for _, row in ended})
    requesters = get_user_model().objects.in_bulk({row[3] for _, row in ended if row[3]})
    deciders = PeopleWhoCan("approve_transfers")
    by_region: dict = {}
    for event, row in ended:
        by_region.setdefault(row[1], []).append((event, row))
    drafts = []
    for region_id, items in by_region.items():
        region = regions[region_id]
        people = [*deciders[region]]
        if len(items) <= ONE_NOTICE_EACH_UP_TO:
            for event, (pk, _, country, requester, status, end_reason) in items:
                asker = requesters.get(requester)
                drafts.append(
                    Draft(
                        recipients=tuple(people + ([asker] if asker and asker.is_active else [])),
                        kind="transfer_suspended",
                        title=f"TR-{pk} {ENDED_VERBS.get(status, 'ended')}: {region.slug} → "
                        f"{country}",
                        body=end_reason or (event.data or {}).get("reason", ""),
                        url=reverse("transfers:detail", args=[pk]),
                        region=region.slug,
                        key=f"audit:{event.sequence}",
                    )
                )
            continue
        first, last = items[0][0], items[-1][0]
        statuses = {row[4] for _, row in items}
        status = statuses.pop() if len(statuses) == 1 else "all"
        verb = {
            TransferStatus.SUSPENDED: "were suspended",
            TransferStatus.REVOKED: "were revoked",
            TransferStatus.EXPIRED: "expired",
        }.get(status, "ended")
        summary = dict(
            kind="transfer_suspended",
            body=items[0][1][5] or (first.data or {}).get("reason", ""),
            region=region.slug,
        )
        drafts.append(
            Draft(
                recipients=tuple(people),
                title=f"{len(items)} transfers from {region.slug} {verb} at once",
                url=f"{reverse('transfers:queue')}?status={status}&region={region.slug}",
                key=f"audit:{first.sequence}-{last.sequence}:{region.slug}",
                **summary,
            )
        )
        mine: dict = {}
        for _, row in items:
            mine[row[3]] = mine.get(row[3], 0) + 1
        for requester, count in mine.items():
            asker = requesters.get(requester)
            if asker is None or not asker.is_active:
                continue
            drafts.append(
                Draft(
                    recipients=(asker,),
                    title=f"{count} of your transfers from {region.slug} {verb} at once",
                    url=f"{reverse('transfers:mine')}?status={status}",
                    key=f"audit:{first.sequence}-{last.sequence}:{region.slug}:{requester}",
                    **summary,
                )
            )
    return drafts


@on("mechanism.expiry_warning")
def mechanism_ending(events):
    from django.contrib.auth import get_user_model

    deciders = PeopleWhoCan("approve_transfers")
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
