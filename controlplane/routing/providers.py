"""The routing table as a part of every region's bundle, and when to republish it.

Every region's bundle carries the whole table (a gateway in any region may receive users from
anywhere), so a change anywhere that moves a route must reach every region. After each
transaction that touched a region or a mechanism, the table is built once and compared with what
each region's latest bundle carries; only the regions whose table differs are republished. A
change that moves no route (a residency rule, a retention period) publishes nothing extra.
"""

import logging

from controlplane.routing import selectors
from controlplane.transactions import once_on_commit

log = logging.getLogger(__name__)


def routing_for_bundle(region) -> dict:
    """The table as the agent reads it. Without the day it was built: the content changes
    only when a route does, and the beat's consistency check republishes when one lapses."""
    table = selectors.routing_table_dict()
    table.pop("on", None)
    return table


def republish_where_routes_changed() -> list[str]:
    """Publish every region whose latest bundle carries another routing table. Returns the
    slugs published."""
    from controlplane.distribution.selectors import latest_bundle
    from controlplane.distribution.services import publish_region
    from regions.models import Region

    table = routing_for_bundle(None)
    published = []
    for region in Region.objects.order_by("slug"):
        latest = latest_bundle(region)
        if latest is None or latest.payload["content"].get("routing") == table:
            continue  # never published (nothing to update), or already current
        if publish_region(region=region, reason="inference routes changed") is not None:
            published.append(region.slug)
    return published


def _after_commit() -> None:
    try:
        republish_where_routes_changed()
    except Exception:  # noqa: BLE001 - committed already; the beat's ensure_current catches up
        log.exception("routing tables not republished; ensure_current will retry")


def routes_may_have_changed(*_args, **_kwargs) -> None:
    """Listener for region and mechanism changes: once per transaction, after the commit."""
    once_on_commit("routing-tables", lambda: _after_commit)


def mechanism_changed(*, mechanism) -> None:
    """An adequacy decision that changes or ends moves routes even when no transfer relied on
    it; other mechanisms move routes only through their transfers (heard as region changes)."""
    from controlplane.transfers import policy as tp

    if mechanism.kind == tp.KIND_ADEQUACY:
        routes_may_have_changed()
