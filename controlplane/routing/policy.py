"""The inference routing table: a pure function over plain dataclasses.

For every user jurisdiction, the endpoints that may serve its users, in order:

1. endpoints of a region in the user's own jurisdiction (no transfer at all);
2. endpoints of a region the user's personal data may lawfully reach under an adequacy
   decision of the user's regime;
3. endpoints of a region that an approved transfer in effect reaches from the user's
   jurisdiction, when the transfer's categories cover everything the endpoint's requests carry.

Never one without a basis. Within a step: priority, then the latency hint, then names. A
jurisdiction with no lawful endpoint is a *gap*, listed as such.

The legal judgement is not made here: steps 1 and 2 ask the transfer policy engine
(``controlplane.transfers.policy.evaluate``) about a recurring flow from the user's jurisdiction
to the region, with only adequacy decisions on the table, so the engine's rules on validity
windows, revocations and scope limits apply unchanged. An adequacy decision limited to certified
importers (the EU-US Data Privacy Framework) is not met by an unnamed operator, so such a region
is reached only through an approved transfer, which names the importer. Step 3 relies on the
transfer register, where every transfer was decided by a DPO and is re-checked when its
mechanism ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from agents.routing import (
    BASIS_ADEQUACY,
    BASIS_SAME_JURISDICTION,
    BASIS_TRANSFER,
    TABLE_FORMAT,
    covers,
)
from controlplane.transfers import policy as tp

TIER = {BASIS_SAME_JURISDICTION: 0, BASIS_ADEQUACY: 1, BASIS_TRANSFER: 2}
NO_LATENCY_HINT = 10**9
# What we know of whoever runs one of our regions: a commercial organisation (not a public
# authority, not an international organisation) processing the requests by automated means.
# Nothing else is assumed: a certification (the EU-US DPF) or any other fact a decision's scope
# turns on is unknown, the engine answers with a condition, and such a region is reached only
# through an approved transfer, where a DPO confirmed the facts for a named importer.
OPERATOR_FACTS = {
    tp.HINT_COMMERCIAL: True,
    tp.HINT_AUTOMATED: True,
    tp.HINT_PUBLIC_AUTHORITY: False,
    tp.HINT_INTERNATIONAL_ORGANISATION: False,
}
BASIS_LABELS = {
    BASIS_SAME_JURISDICTION: "same jurisdiction",
    BASIS_ADEQUACY: "adequacy",
    BASIS_TRANSFER: "transfer",
}


@dataclass(frozen=True, slots=True)
class RegionFacts:
    slug: str
    jurisdiction: str
    country: str


@dataclass(frozen=True, slots=True)
class ModelServed:
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class EndpointFacts:
    region: str
    name: str
    url: str
    serves_traffic: bool = True
    priority: int = 100
    latency_hint_ms: int | None = None
    log_store: str | None = None
    input_categories: frozenset[str] = frozenset()
    models: tuple[ModelServed, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.region}/{self.name}"


@dataclass(frozen=True, slots=True)
class TransferInEffect:
    """An approved transfer in effect, as routing needs it."""

    id: str
    source_jurisdiction: str
    destination_country: str
    destination_region: str | None
    categories: frozenset[str]
    basis: str = ""
    mechanism: str | None = None
    expires_on: date | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    """The legal footing of one (user jurisdiction, region) pair."""

    basis: str | None
    code: str
    reason: str
    mechanism: str | None = None
    transfer: str | None = None

    @property
    def lawful(self) -> bool:
        return self.basis is not None

    @property
    def label(self) -> str:
        return BASIS_LABELS.get(self.basis, "no basis")

    def as_dict(self) -> dict:
        return {
            "basis": self.basis,
            "code": self.code,
            "reason": self.reason,
            "mechanism": self.mechanism,
            "transfer": self.transfer,
        }


@dataclass
class RoutingTable:
    on: date
    countries: dict[str, str]
    jurisdiction_names: dict[str, str]
    routes: dict[str, list[dict]]
    cells: dict[str, dict[str, Cell]]
    regions: list[RegionFacts]
    unroutable: list[dict] = field(default_factory=list)

    def gaps(self) -> list[str]:
        return sorted(j for j, routes in self.routes.items() if not routes)

    def as_dict(self) -> dict:
        """The table as gateways and agents read it (no per-region cells)."""
        return {
            "format": TABLE_FORMAT,
            "on": self.on.isoformat(),
            "countries": dict(sorted(self.countries.items())),
            "jurisdictions": {
                code: {
                    "name": self.jurisdiction_names.get(code, code),
                    "routes": self.routes[code],
                    "gap": not self.routes[code],
                }
                for code in sorted(self.routes)
            },
            "unroutable": self.unroutable,
        }


def _adequacy_only(mechanisms: Iterable[tp.Mechanism] | tp.MechanismSet) -> tp.MechanismSet:
    if isinstance(mechanisms, tp.MechanismSet):
        mechanisms = mechanisms.all
    return tp.MechanismSet(m for m in mechanisms if isinstance(m, tp.AdequacyDecision))


def _engine_cell(
    user_jurisdiction: str, home_country: str, region: RegionFacts, ms: tp.MechanismSet, on: date
) -> Cell:
    """Ask the transfer engine whether the user's data may go to ``region`` without a
    transfer decision of our own (same jurisdiction, or adequacy)."""
    facts = tp.TransferFacts(
        source_country=home_country,
        source_jurisdiction=user_jurisdiction,
        destination_country=region.country,
        destination_jurisdiction=region.jurisdiction,
        exporter=tp.PartyFacts(
            "the user's controller", home_country, tp.CONTROLLER, jurisdiction=user_jurisdiction
        ),
        importer=tp.PartyFacts(
            f"the operator of {region.slug}",
            region.country,
            tp.PROCESSOR,
            scope=OPERATOR_FACTS,
            jurisdiction=region.jurisdiction,
        ),
        data_categories=(),
        frequency=tp.RECURRING,
    )
    decision = tp.evaluate(facts, ms, on)
    if decision.allowed and not decision.transfer:
        why = next(f for f in decision.findings if f.code.startswith("NOT_A_TRANSFER"))
        if why.code != "NOT_A_TRANSFER":  # e.g. the UK under EU law until the end of 2020
            return Cell(BASIS_SAME_JURISDICTION, why.code, why.message)
        return Cell(
            BASIS_SAME_JURISDICTION,
            "SAME_JURISDICTION",
            f"{region.slug} is in {user_jurisdiction}, the users' own jurisdiction: no transfer.",
        )
    if decision.allowed and decision.conditions:
        # A verdict that holds only once someone confirms a fact is not a basis for routing
        # every request: the route needs an approved transfer, where a DPO confirmed it.
        first = decision.conditions[0]
        return Cell(
            None,
            first.code,
            f"Only conditionally: {first.message} Without an approved transfer confirming it, "
            "no route.",
        )
    if decision.allowed and decision.basis == tp.BASIS_ADEQUACY:
        finding = next(f for f in decision.findings if f.code == "ADEQUACY_IN_FORCE")
        return Cell(BASIS_ADEQUACY, finding.code, finding.message, decision.mechanism.key)
    # No basis: keep the engine's most telling reason (a revoked decision says so).
    blocking = [f for f in decision.blocking if f.code != "NO_BASIS"]
    if decision.regime is None:
        return Cell(
            None,
            "ORIGIN_REGIME_NOT_MODELLED",
            f"The engine does not model {user_jurisdiction}'s own transfer rules; without an "
            f"approved transfer, its users stay in {user_jurisdiction}.",
        )
    if blocking:
        return Cell(None, blocking[0].code, blocking[0].message)
    return Cell(
        None,
        "NO_BASIS",
        f"No adequacy decision of {tp.REGIME_LAW[decision.regime]} covers {region.country} "
        f"({region.jurisdiction}) on {on.isoformat()}, and no approved transfer reaches "
        f"{region.slug} from {user_jurisdiction}.",
    )


def _transfer_reaches(t: TransferInEffect, region: RegionFacts, on: date) -> bool:
    if t.expires_on is not None and t.expires_on <= on:
        return False
    if t.destination_region is not None:
        return t.destination_region == region.slug
    return t.destination_country == region.country


def build_table(
    *,
    regions: Sequence[RegionFacts],
    endpoints: Sequence[EndpointFacts],
    countries: Mapping[str, str],
    mechanisms: Iterable[tp.Mechanism] | tp.MechanismSet,
    transfers: Sequence[TransferInEffect],
    on: date,
    jurisdiction_names: Mapping[str, str] | None = None,
) -> RoutingTable:
    """The whole routing table on ``on``.

    ``countries`` maps every ISO country code to its jurisdiction. ``mechanisms`` may hold
    every mechanism on record; only adequacy decisions are consulted (contracts and BCRs bind
    named parties, which reach routing through approved transfers).
    """
    ms = _adequacy_only(mechanisms)
    jurisdictions: dict[str, str] = {}  # jurisdiction -> a country of it (for the engine's facts)
    for country, jurisdiction in sorted(countries.items()):
        jurisdictions.setdefault(jurisdiction, country)
    by_slug = {r.slug: r for r in regions}

    transfers_from: dict[str, list[TransferInEffect]] = {}
    for t in transfers:
        transfers_from.setdefault(t.source_jurisdiction, []).append(t)

    # Endpoints that cannot be routed to, whatever the user.
    routable: list[EndpointFacts] = []
    unroutable = []
    for e in sorted(endpoints, key=lambda e: e.key):
        if e.region not in by_slug:
            continue
        if not e.serves_traffic:
            unroutable.append({"endpoint": e.key, "region": e.region, "reason": "not serving"})
        elif not e.log_store:
            unroutable.append(
                {
                    "endpoint": e.key,
                    "region": e.region,
                    "reason": "no inference log store in its region: logs hold personal data",
                }
            )
        else:
            routable.append(e)

    # The engine's answer depends on the user's jurisdiction and the region's country and
    # jurisdiction only: ask once per distinct pair.
    engine_cache: dict[tuple[str, str, str], Cell] = {}
    cells: dict[str, dict[str, Cell]] = {}
    routes: dict[str, list[dict]] = {}
    for user_j, home in jurisdictions.items():
        row: dict[str, Cell] = {}
        for region in regions:
            k = (user_j, region.country, region.jurisdiction)
            cell = engine_cache.get(k)
            if cell is None:
                cell = engine_cache[k] = _engine_cell(user_j, home, region, ms, on)
            row[region.slug] = cell
        cells[user_j] = row

        candidates = []
        for e in routable:
            region = by_slug[e.region]
            cell = row[e.region]
            if cell.lawful:
                candidates.append((cell, e, None))
                continue
            transfer = _transfer_for(transfers_from.get(user_j, ()), region, e, on)
            if transfer is not None:
                candidates.append((_transfer_cell(transfer, user_j, region), e, transfer))
        for cell, e, transfer in candidates:
            if transfer is not None and row[e.region].basis is None:
                # The matrix shows the transfer as the region's footing for these users.
                row[e.region] = cell
        candidates.sort(
            key=lambda c: (
                TIER[c[0].basis],
                c[1].priority,
                c[1].latency_hint_ms if c[1].latency_hint_ms is not None else NO_LATENCY_HINT,
                c[1].key,
            )
        )
        routes[user_j] = [
            _route(cell, e, by_slug[e.region], transfer) for cell, e, transfer in candidates
        ]

    return RoutingTable(
        on=on,
        countries=dict(countries),
        jurisdiction_names=dict(jurisdiction_names or {}),
        routes=routes,
        cells=cells,
        regions=list(regions),
        unroutable=unroutable,
    )


def _transfer_for(
    transfers: Iterable[TransferInEffect], region: RegionFacts, e: EndpointFacts, on: date
) -> TransferInEffect | None:
    """The first transfer (by id) that reaches the region and covers the endpoint's inputs."""
    if not e.input_categories:
        return None  # what the requests carry is unknown: no transfer can be shown to cover it
    for t in sorted(transfers, key=lambda t: t.id):
        if _transfer_reaches(t, region, on) and all(
            covers(t.categories, c) for c in e.input_categories
        ):
            return t
    return None


def _transfer_cell(t: TransferInEffect, user_j: str, region: RegionFacts) -> Cell:
    where = region.slug if t.destination_region else f"{region.country} (and so {region.slug})"
    return Cell(
        BASIS_TRANSFER,
        "TRANSFER_IN_EFFECT",
        f"{t.id}, approved and in effect, sends {', '.join(sorted(t.categories))} from "
        f"{user_j} to {where}"
        + (f" under {t.mechanism}" if t.mechanism else "")
        + (f", until {t.expires_on.isoformat()}" if t.expires_on else "")
        + ".",
        mechanism=t.mechanism,
        transfer=t.id,
    )


def _route(cell: Cell, e: EndpointFacts, region: RegionFacts, t: TransferInEffect | None) -> dict:
    route = {
        "endpoint": e.key,
        "region": e.region,
        "country": region.country,
        "jurisdiction": region.jurisdiction,
        "url": e.url,
        "basis": cell.basis,
        "code": cell.code,
        "reason": cell.reason,
        "mechanism": cell.mechanism,
        "transfer": cell.transfer,
        "priority": e.priority,
        "latency_hint_ms": e.latency_hint_ms,
        "log_store": e.log_store,
        "models": [{"name": m.name, "version": m.version} for m in e.models],
    }
    if t is not None:
        route["covers"] = sorted(t.categories)
    return route
