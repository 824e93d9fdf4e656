"""Metrics pages: per region, per model version, and the refusal log. Thin; scoped by restrict()."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from controlplane.metrics import charts, selectors
from controlplane.metrics.catalogue import SEED
from controlplane.metrics.filtersets import MetricRefusalFilterSet
from controlplane.metrics.models import MetricDefinition, MetricRefusal
from controlplane.permissions import Role, has_role, restrict, sees_every_region
from controlplane.web.lists import list_page
from regions.models import Region

# What the model-version page compares across regions, in this order.
VERSION_METRICS = (
    "model.accuracy",
    "model.drift_psi",
    "inference.latency_ms.p50",
    "inference.latency_ms.p95",
)


def _range(request) -> tuple[str, object]:
    name = request.GET.get("range", selectors.DEFAULT_RANGE)
    if name not in selectors.RANGES:
        name = selectors.DEFAULT_RANGE
    return name, timezone.now() - selectors.RANGES[name]


SEED_ORDER = {d.name: i for i, d in enumerate(SEED)}


def _catalogue_order(definition) -> tuple:
    return (SEED_ORDER.get(definition.name, len(SEED_ORDER)), definition.name)


def may_read_refusals(user) -> bool:
    return sees_every_region(user) or has_role(user, Role.DPO)


@require_safe
def index(request):
    regions = restrict(Region.objects.select_related("jurisdiction"), request.user, "view")
    versions = selectors.model_versions_with_points(regions)
    return render(
        request,
        "metrics/index.html",
        {
            "regions": regions,
            "versions": versions,
            "definitions": MetricDefinition.objects.all(),
            "may_read_refusals": may_read_refusals(request.user),
        },
    )


@require_safe
def region_metrics(request, slug):
    region = get_object_or_404(
        restrict(Region.objects.select_related("jurisdiction"), request.user, "view"), slug=slug
    )
    range_name, since = _range(request)
    cards = [
        {"definition": d, "svg": charts.region_chart(region=region, metric=d.name, since=since)}
        for d in sorted(MetricDefinition.objects.all(), key=_catalogue_order)
    ]
    return render(
        request,
        "metrics/region.html",
        {
            "region": region,
            "cards": cards,
            "range_name": range_name,
            "ranges": list(selectors.RANGES),
            "note": charts.privacy_note(k=region.metrics_k, epsilon=region.metrics_epsilon),
        },
    )


@require_safe
def version_metrics(request, version):
    regions = list(restrict(Region.objects.all(), request.user, "view"))
    range_name, since = _range(request)
    seen = selectors.regions_with_version(version, regions)
    if not seen:
        # Unknown version, or one that runs only where this person may not look: the same 404.
        from django.http import Http404

        raise Http404("No metrics for this model version in the regions you may see.")
    cards = [
        {
            "metric": name,
            "svg": charts.model_version_chart(
                version=version, metric=name, regions=seen, since=since
            ),
        }
        for name in VERSION_METRICS
    ]
    return render(
        request,
        "metrics/version.html",
        {
            "version": version,
            "regions": seen,
            "cards": cards,
            "range_name": range_name,
            "ranges": list(selectors.RANGES),
        },
    )


@require_safe
def refusals(request):
    if not may_read_refusals(request.user):
        raise PermissionDenied("The refusal log is for DPOs and auditors.")
    rows = restrict(MetricRefusal.objects.select_related("region", "agent"), request.user, "view")
    return list_page(request, "metrics/refusals.html", MetricRefusalFilterSet, rows)
