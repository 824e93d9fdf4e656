"""The revocation drill: what ending a mechanism would do, then doing exactly that.

The simulation is not a second copy of the rules. It runs the one service that ends a
mechanism (``transfers.services.mechanism_end``: permission, re-evaluation of every dependent,
deployments re-checked in every region the suspended transfers pointed at, DPO notices) inside
a transaction, reads what changed, and rolls everything back: no row is written, no commit
callback (bundle publishing, pushes) runs. "End it" runs the same thing and commits, but only
if the impact is the one the person confirmed (its fingerprint); otherwise nothing happens and
they are shown the new impact. Everything it did is audited by the service, plus one
``mechanism.drill_ended`` event carrying the confirmed impact, in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from agents import protocol
from controlplane.audit.services import record_event
from controlplane.distribution import selectors as distribution_selectors
from controlplane.distribution.builder import build_content
from controlplane.errors import ConflictError
from controlplane.modelregistry.models import DeploymentApproval, DeploymentStatus
from controlplane.routing import providers
from controlplane.routing import selectors as routing_selectors
from controlplane.transfers import services as transfer_services
from controlplane.transfers.models import Mechanism
from regions.models import Agent, Region


@dataclass
class Impact:
    mechanism: str
    status: str
    ends_on: date | None
    suspended: list[dict] = field(default_factory=list)  # transfers
    rebased: list[dict] = field(default_factory=list)
    withdrawn: list[dict] = field(default_factory=list)  # deployments
    routes: list[dict] = field(default_factory=list)  # per user jurisdiction: lost / gained
    bundles: list[dict] = field(default_factory=list)  # regions whose bundle changes
    agents: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "mechanism": self.mechanism,
            "status": self.status,
            "ends_on": self.ends_on.isoformat() if self.ends_on else None,
            "suspended": self.suspended,
            "rebased": self.rebased,
            "withdrawn": self.withdrawn,
            "routes": self.routes,
            "bundles": self.bundles,
            "agents": self.agents,
        }

    @property
    def fingerprint(self) -> str:
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


class _Simulated(Exception):
    """Raised inside the transaction to roll the simulation back."""

    def __init__(self, impact: Impact):
        super().__init__("simulation")
        self.impact = impact


def _transfer(tr) -> dict:
    return {
        "id": f"TR-{tr.pk}",
        "pk": tr.pk,
        "source_region": tr.source_region.slug,
        "destination": tr.destination_region.slug
        if tr.destination_region_id
        else f"{tr.destination_country.code} (every region)",
        "region_ids": [tr.source_region_id, tr.destination_region_id],
    }


def _approved_deployments() -> dict[int, dict]:
    rows = DeploymentApproval.objects.filter(status=DeploymentStatus.APPROVED).values_list(
        "pk", "region__slug", "region_id", "version__model__name", "version__version", "is_desired"
    )
    return {
        pk: {
            "id": f"DA-{pk}",
            "pk": pk,
            "region": slug,
            "region_id": region_id,
            "model": name,
            "version": version,
            "was_desired": desired,
        }
        for pk, slug, region_id, name, version, desired in rows
    }


def _routes(table: dict) -> dict[str, list[tuple[str, str]]]:
    return {
        code: [(r["endpoint"], r["basis"]) for r in entry["routes"]]
        for code, entry in table["jurisdictions"].items()
    }


def _route_changes(before: dict, after: dict) -> list[dict]:
    changes = []
    for code in sorted(before):
        old, new = before[code], after.get(code, [])
        if old == new:
            continue
        changes.append(
            {
                "jurisdiction": code,
                "lost": [e for e, _ in old if e not in {x for x, _ in new}],
                "gained": [e for e, _ in new if e not in {x for x, _ in old}],
                "before": [e for e, _ in old],
                "after": [e for e, _ in new],
                "gap": not new,
            }
        )
    return changes


def _bundles_that_change() -> list[dict]:
    """Regions whose bundle content, built now (inside the transaction), differs from the
    latest bundle: the ones publishing would sign a new version for."""
    out = []
    for region in Region.objects.order_by("slug"):
        latest = distribution_selectors.latest_bundle(region)
        content = build_content(distribution_selectors.region_state(region))
        digest = protocol.digest_of(content)
        if latest is None or latest.content_digest != digest:
            out.append(
                {
                    "region": region.slug,
                    "region_id": region.pk,
                    "from_version": latest.version if latest else None,
                }
            )
    return out


def _run(*, mechanism, by, status, reason, ends_on, backdated_because) -> tuple[Impact, dict]:
    """Inside the caller's transaction: end the mechanism with the real service and read what
    it changed."""
    table_before = _routes(routing_selectors.routing_table_dict())
    deployments_before = _approved_deployments()
    m, outcome = transfer_services.mechanism_end(
        mechanism=mechanism,
        by=by,
        status=status,
        reason=reason,
        ends_on=ends_on,
        backdated_because=backdated_because,
    )
    deployments_after = _approved_deployments()
    withdrawn = [d for pk, d in deployments_before.items() if pk not in deployments_after]
    with distribution_selectors.building_many_bundles():  # nothing is written meanwhile
        bundles = _bundles_that_change()
        table_after = _routes(providers.routing_for_bundle(None))
    changed_regions = [b["region_id"] for b in bundles]
    agents = [
        {"name": name, "region": slug, "id": str(pk)}
        for pk, name, slug in Agent.objects.filter(
            region_id__in=changed_regions, revoked_at__isnull=True
        )
        .order_by("region__slug", "name")
        .values_list("pk", "name", "region__slug")
    ]
    impact = Impact(
        mechanism=m.key,
        status=status,
        ends_on=m.ends_on,
        suspended=[_transfer(tr) for tr in outcome["suspended"]],
        rebased=[_transfer(tr) for tr in outcome["rebased"]],
        withdrawn=sorted(withdrawn, key=lambda d: d["pk"]),
        routes=_route_changes(table_before, table_after),
        bundles=bundles,
        agents=agents,
    )
    return impact, outcome


def simulate_ending(
    *, mechanism: Mechanism, by, status: str, reason: str, ends_on=None, backdated_because=""
) -> Impact:
    """What ending ``mechanism`` would do. Changes nothing: the real service runs and is rolled
    back (errors it raises, permission or validation, reach the caller as they are)."""
    try:
        with transaction.atomic():
            impact, _ = _run(
                mechanism=mechanism,
                by=by,
                status=status,
                reason=reason,
                ends_on=ends_on,
                backdated_because=backdated_because,
            )
            raise _Simulated(impact)
    except _Simulated as done:
        return done.impact


def end_as_simulated(
    *,
    mechanism: Mechanism,
    by,
    status: str,
    reason: str,
    fingerprint: str,
    ends_on=None,
    backdated_because="",
) -> Impact:
    """End the mechanism, in one transaction, only if it does exactly what was confirmed."""
    with transaction.atomic():
        impact, _ = _run(
            mechanism=mechanism,
            by=by,
            status=status,
            reason=reason,
            ends_on=ends_on,
            backdated_because=backdated_because,
        )
        if impact.fingerprint != fingerprint:
            # Something changed since the simulation: undo, and say so.
            raise ConflictError(
                "What ending it would do changed since you confirmed it (a transfer, "
                "deployment or route moved). Nothing was ended: review the new impact."
            )
        record_event(
            actor=by,
            action="mechanism.drill_ended",
            obj=Mechanism.objects.get(pk=mechanism.pk),
            data={"fingerprint": fingerprint, **_audit_summary(impact)},
        )
    return impact


def _audit_summary(impact: Impact) -> dict:
    return {
        "suspended": [t["id"] for t in impact.suspended],
        "rebased": [t["id"] for t in impact.rebased],
        "withdrawn": [d["id"] for d in impact.withdrawn],
        "routes_changed": [r["jurisdiction"] for r in impact.routes],
        "bundles": [b["region"] for b in impact.bundles],
        "agents": [a["name"] for a in impact.agents],
    }
