"""Bundle parts contributed by other apps, wired in when those apps are installed.

Each provider is ``fn(region) -> list[dict]`` registered with
``selectors.register_content_provider``. Adding a part here is the only change the
distribution app needs when another app starts contributing to the desired state.
"""

from django.apps import apps

from controlplane.distribution.selectors import register_content_provider


def _day_end(day) -> str | None:
    return f"{day.isoformat()}T00:00:00Z" if day else None


def transfers_for_bundle(region) -> list[dict]:
    """Approved transfers in effect that touch this region, out of it or into it."""
    from django.db.models import Q

    from controlplane.transfers.models import IN_EFFECT, TransferRequest

    requests = (
        TransferRequest.objects.filter(status__in=IN_EFFECT)
        .filter(
            Q(source_region=region)
            | Q(destination_region=region)
            | Q(destination_region__isnull=True, destination_country=region.country_id)
        )
        .select_related(
            "source_region__jurisdiction",
            "destination_region",
            "destination_country__jurisdiction",
        )
        .prefetch_related("data_categories")
    )
    out = []
    for tr in requests:
        out.append(
            {
                "id": f"TR-{tr.pk}",
                "status": "active",
                "direction": "outgoing" if tr.source_region_id == region.pk else "incoming",
                "from_region": tr.source_region.slug,
                "from_jurisdiction": tr.source_region.jurisdiction.code,
                "to_region": tr.destination_region.slug if tr.destination_region_id else None,
                "to_country": tr.destination_country.code,
                "to_jurisdiction": tr.destination_country.jurisdiction.code,
                "categories": sorted(c.key for c in tr.data_categories.all()),
                "basis": tr.policy_basis,
                "valid_until": _day_end(tr.expires_on),
            }
        )
    return out


def register_installed_providers() -> None:
    if apps.is_installed("controlplane.transfers"):
        try:
            from controlplane.transfers import models as transfer_models
        except ImportError:
            return
        if hasattr(transfer_models, "IN_EFFECT"):
            register_content_provider("transfers", transfers_for_bundle)
