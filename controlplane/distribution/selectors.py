"""Reads: a region's desired state for the builder, bundles, and agents with their drift."""

from collections.abc import Callable
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from controlplane.distribution import conf
from controlplane.distribution import drift as drift_module
from controlplane.distribution.builder import RegionState
from controlplane.distribution.drift import drift_state
from controlplane.distribution.models import ConfigBundle
from regions.models import Agent, DataCategory, Region

# Other apps contribute parts of the bundle: ``content_providers["transfers"] = fn`` where
# ``fn(region) -> list[dict]`` (``"models"`` likewise, ``"metrics"`` and ``"routing"`` -> dict).
# Register them in
# ``AppConfig.ready()``; a missing provider leaves that part empty.
content_providers: dict = {}


def register_content_provider(name: str, provider) -> None:
    if name not in ("transfers", "models", "metrics", "routing"):
        raise ValueError(f"unknown bundle part {name!r}")
    content_providers[name] = provider


_shared: ContextVar[dict | None] = ContextVar("bundle_shared_parts", default=None)


@contextmanager
def building_many_bundles():
    """Inside, a part that is the same in every region's bundle (the routing table) is built
    once, by the first region that needs it, and handed to the others: for building several
    regions' bundles from one state of the database (after a commit that touched them all, or
    inside a transaction that writes nothing meanwhile). Nested uses share the outer memo."""
    if _shared.get() is not None:
        yield
        return
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def shared_part(name: str, build: Callable[[], dict]) -> dict:
    """``build()``, or what it returned earlier inside the same ``building_many_bundles``."""
    memo = _shared.get()
    if memo is None:
        return build()
    if name not in memo:
        memo[name] = build()
    return memo[name]


def _rule(rule) -> dict:
    return {
        "position": rule.position,
        "subject_country": rule.subject_country.code if rule.subject_country_id else None,
        "data_category": rule.data_category.key if rule.data_category_id else None,
        "contract_tag": rule.contract_tag or None,
        "home_jurisdiction": rule.home_jurisdiction.code,
        "data_store": rule.data_store.name if rule.data_store_id else None,
    }


def _store(store) -> dict:
    return {
        "name": store.name,
        "kind": store.kind,
        "location_uri": store.location_uri,
        "retention_days": store.retention_days,
        "key_ref": store.key.uri if store.key_id else None,
    }


def region_state(region: Region) -> RegionState:
    region = Region.objects.select_related("jurisdiction", "country").get(pk=region.pk)
    rules = region.residency_rules.select_related(
        "subject_country", "data_category", "home_jurisdiction", "data_store"
    )
    stores = region.data_stores.select_related("key")
    metrics = {"k": conf.metrics_default_k(), "catalogue": []}
    if "metrics" in content_providers:
        metrics.update(content_providers["metrics"](region))
    return RegionState(
        region={
            "slug": region.slug,
            "jurisdiction": region.jurisdiction.code,
            "country": region.country.code,
            "provider": region.provider,
            "cloud_region": region.cloud_region,
        },
        residency_rules=[_rule(r) for r in rules],
        data_stores=[_store(s) for s in stores],
        special_categories=list(
            DataCategory.objects.filter(is_special_category=True).values_list("key", flat=True)
        ),
        categories=list(DataCategory.objects.values_list("key", flat=True)),
        transfers=list(content_providers["transfers"](region))
        if "transfers" in content_providers
        else [],
        models=list(content_providers["models"](region)) if "models" in content_providers else [],
        metrics=metrics,
        routing=dict(content_providers["routing"](region))
        if "routing" in content_providers
        else {},
    )


def latest_bundle(region) -> ConfigBundle | None:
    return ConfigBundle.objects.filter(region=region).order_by("-version").first()


def latest_digests(region_ids) -> dict:
    """``{region_id: (version, digest)}`` of each region's newest bundle, in one query that
    reads one row per region, however many versions each has."""
    newest = (
        ConfigBundle.objects.filter(region_id=OuterRef("region_id"))
        .order_by("-version")
        .values("version")[:1]
    )
    rows = ConfigBundle.objects.filter(
        region_id__in=list(region_ids), version=Subquery(newest)
    ).values_list("region_id", "version", "digest")
    return {region_id: (version, digest) for region_id, version, digest in rows}


def trust_state(trust_expires, *, now) -> str:
    """``expired`` (the agent routes nothing), ``expiring`` (within ``AGENT_EXPIRY_WARNING_HOURS``),
    ``ok``, or ``unknown`` (never reported)."""
    if trust_expires is None:
        return "unknown"
    if trust_expires <= now:
        return "expired"
    if trust_expires - now <= conf.expiry_warning():
        return "expiring"
    return "ok"


def agents_with_drift(queryset, *, now=None) -> list[Agent]:
    """Active agents with ``desired_version``, ``desired_digest``, a live ``drift`` and their
    ``trust_state`` (is the TUF metadata they rely on about to expire?)."""
    return with_drift(
        list(queryset.filter(revoked_at__isnull=True).select_related("region")), now=now
    )


def with_drift(agents: list[Agent], *, now=None) -> list[Agent]:
    """``agents`` (regions loaded) with their desired bundle, live drift and trust state."""
    now = now or timezone.now()
    desired = latest_digests({a.region_id for a in agents})
    for agent in agents:
        version, digest = desired.get(agent.region_id, (None, None))
        agent.desired_version, agent.desired_digest = version, digest
        agent.live_drift = drift_state(
            last_seen=agent.last_seen,
            poll_interval=agent.poll_interval,
            applied_digest=agent.applied_digest,
            last_error_code=agent.last_error_code,
            desired_digest=digest,
            now=now,
        )
        agent.trust_state = trust_state(agent.trust_expires, now=now)
    return agents


def drift_counts_of(queryset, *, now=None) -> dict | None:
    """Active agents per live drift state, without loading them (the dashboard); ``None`` when
    there is no active agent."""
    now = now or timezone.now()
    rows = list(
        queryset.filter(revoked_at__isnull=True).values_list(
            "region_id", "last_seen", "poll_interval", "applied_digest", "last_error_code"
        )
    )
    if not rows:
        return None
    desired = latest_digests({row[0] for row in rows})
    counts = {"synced": 0, "out_of_sync": 0, "failed": 0, "unknown": 0}
    for region_id, last_seen, poll_interval, applied_digest, last_error_code in rows:
        state = drift_state(
            last_seen=last_seen,
            poll_interval=poll_interval,
            applied_digest=applied_digest,
            last_error_code=last_error_code,
            desired_digest=desired.get(region_id, (None, None))[1],
            now=now,
        )
        counts[state] += 1
    return counts


def drift_counts(agents) -> dict:
    counts = {"synced": 0, "out_of_sync": 0, "failed": 0, "unknown": 0}
    for agent in agents:
        counts[agent.live_drift] += 1
    return counts


def uncovered_regions(regions, agents) -> list[dict]:
    """Regions that receive bundles but nobody applies them: no active agent at all, or every
    agent stale (``unknown``). ``agents`` carry ``live_drift`` (``agents_with_drift``)."""
    by_region: dict = {}
    for agent in agents:
        by_region.setdefault(agent.region_id, []).append(agent)
    publishing = set(
        ConfigBundle.objects.filter(region__in=regions).values_list("region_id", flat=True)
    )
    flagged = []
    for region in regions:
        if region.pk not in publishing:
            continue
        mine = by_region.get(region.pk, [])
        if not mine:
            flagged.append({"region": region, "problem": "no_agent", "agents": 0})
        elif all(a.live_drift == drift_module.UNKNOWN for a in mine):
            flagged.append({"region": region, "problem": "all_stale", "agents": len(mine)})
    return flagged
