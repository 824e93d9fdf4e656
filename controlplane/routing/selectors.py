"""Reads that feed the routing table: the estate, adequacy decisions and transfers in effect.

``routing_inputs`` runs a fixed number of queries however large the estate is (the bench and
``tests/routing/test_selectors.py`` hold it to that); ``routing_table`` hands them to the pure
builder.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from controlplane.modelregistry.models import DeploymentApproval, DeploymentStatus
from controlplane.permissions import regions_for, restrict, sees_every_region
from controlplane.routing import policy as rp
from controlplane.routing.models import ServedModel
from controlplane.transfers import policy as tp
from controlplane.transfers.models import IN_EFFECT, Mechanism, TransferRequest
from controlplane.transfers.selectors import today
from regions.models import Country, InferenceEndpoint, Jurisdiction, Region


def routing_inputs(*, on: date | None = None) -> dict:
    """The builder's keyword arguments, read in a fixed number of queries."""
    on = on or today()
    regions = [
        rp.RegionFacts(slug=slug, jurisdiction=jurisdiction, country=country)
        for slug, jurisdiction, country in Region.objects.order_by("slug").values_list(
            "slug", "jurisdiction__code", "country__code"
        )
    ]
    desired = {
        (region_id, model_id): version
        for region_id, model_id, version in DeploymentApproval.objects.filter(
            status=DeploymentStatus.APPROVED, is_desired=True
        ).values_list("region_id", "model_id", "version__version")
    }
    served: dict[int, list[rp.ModelServed]] = {}
    for endpoint_id, region_id, model_id, name in ServedModel.objects.values_list(
        "endpoint_id", "endpoint__region_id", "model_id", "model__name"
    ).order_by("model__name"):
        version = desired.get((region_id, model_id))
        if version is not None:
            served.setdefault(endpoint_id, []).append(rp.ModelServed(name, version))
    endpoints = [
        rp.EndpointFacts(
            region=e.region.slug,
            name=e.name,
            url=e.url,
            serves_traffic=e.serves_traffic,
            priority=e.priority,
            latency_hint_ms=e.latency_hint_ms,
            log_store=e.log_store.name if e.log_store_id else None,
            input_categories=frozenset(c.key for c in e.input_categories.all()),
            models=tuple(served.get(e.pk, ())),
        )
        for e in InferenceEndpoint.objects.select_related("region", "log_store")
        .prefetch_related("input_categories")
        .order_by("region__slug", "name")
    ]
    countries = dict(Country.objects.values_list("code", "jurisdiction__code"))
    names = dict(Jurisdiction.objects.values_list("code", "name"))
    mechanisms = [
        m.to_policy() for m in Mechanism.objects.with_relations().filter(kind=tp.KIND_ADEQUACY)
    ]
    transfers = [
        rp.TransferInEffect(
            id=f"TR-{tr.pk}",
            source_jurisdiction=tr.source_region.jurisdiction.code,
            destination_country=tr.destination_country.code,
            destination_region=tr.destination_region.slug if tr.destination_region_id else None,
            categories=frozenset(c.key for c in tr.data_categories.all()),
            basis=tr.policy_basis,
            mechanism=tr.policy_mechanism.key if tr.policy_mechanism_id else None,
            expires_on=tr.expires_on,
        )
        for tr in TransferRequest.objects.filter(status__in=IN_EFFECT)
        .filter(Q(expires_on__isnull=True) | Q(expires_on__gt=on))
        .select_related(
            "source_region__jurisdiction",
            "destination_region",
            "destination_country",
            "policy_mechanism",
        )
        .prefetch_related("data_categories")
        .order_by("pk")
    ]
    return {
        "regions": regions,
        "endpoints": endpoints,
        "countries": countries,
        "jurisdiction_names": names,
        "mechanisms": mechanisms,
        "transfers": transfers,
        "on": on,
    }


def routing_table(*, on: date | None = None) -> rp.RoutingTable:
    return rp.build_table(**routing_inputs(on=on))


def routing_table_dict(*, on: date | None = None) -> dict:
    """The whole table as gateways and agents read it (what every bundle carries)."""
    return routing_table(on=on).as_dict()


def endpoints(user):
    """The inference endpoints of the regions ``user`` may view, with what routing knows of
    each, in a fixed number of queries (the endpoints page and the API list)."""
    return (
        restrict(InferenceEndpoint.objects.all(), user, "view")
        .select_related("region", "log_store")
        .prefetch_related("input_categories", "served_models__model")
        .order_by("region__slug", "name")
    )


def visible_region_slugs(user) -> set[str] | None:
    """The regions whose endpoints ``user`` may see in the table; ``None`` means all."""
    if sees_every_region(user):
        return None
    return set(regions_for(user, "view").values_list("slug", flat=True))


def scoped(table: dict, visible: set[str] | None) -> dict:
    """``table`` (as a dict) narrowed to endpoints of ``visible`` regions.

    A DPO sees the routes into their own regions. Whether a jurisdiction has any lawful
    endpoint at all (``gap``) is a fact about its users, not about a region, so it stays;
    ``routes_elsewhere`` says that routes exist in regions they cannot see, without counting
    or naming them.
    """
    if visible is None:
        return {**table, "scope": "all regions"}
    jurisdictions = {}
    for code, entry in table["jurisdictions"].items():
        routes = [r for r in entry["routes"] if r["region"] in visible]
        jurisdictions[code] = {
            **entry,
            "routes": routes,
            "routes_elsewhere": len(routes) < len(entry["routes"]),
        }
    return {
        **table,
        "jurisdictions": jurisdictions,
        "unroutable": [u for u in table["unroutable"] if u["region"] in visible],
        "scope": "your regions",
    }

