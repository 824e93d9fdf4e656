"""Reads of the estate shared by pages and the API."""

from controlplane.permissions import restrict
from regions import iac
from regions.models import Region


def iac_facts(regions) -> list[iac.RegionFacts]:
    """The facts the infrastructure-as-code documents need, for a queryset of regions, in a
    fixed number of queries."""
    rows = regions.select_related("jurisdiction", "country").prefetch_related(
        "keys", "data_stores__key"
    )
    return [
        iac.RegionFacts(
            slug=r.slug,
            name=r.name,
            jurisdiction=r.jurisdiction.code,
            country=r.country.code,
            provider=r.provider,
            cloud_region=r.cloud_region,
            keys=tuple(iac.KeyFacts(k.name, k.uri) for k in r.keys.all()),
            stores=tuple(
                iac.StoreFacts(
                    s.name,
                    s.kind,
                    s.location_uri,
                    s.retention_days,
                    s.key.uri if s.key_id else None,
                )
                for s in r.data_stores.all()
            ),
        )
        for r in rows.order_by("slug")
    ]


def visible_iac_facts(user, slug: str | None = None) -> list[iac.RegionFacts]:
    regions = restrict(Region.objects.all(), user, "view")
    if slug is not None:
        regions = regions.filter(slug=slug)
    return iac_facts(regions)
