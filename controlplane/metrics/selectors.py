"""Reads: a region's catalogue (for its bundle and for ingestion) and metric series for pages."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.apps import apps
from django.db.models import F, FloatField, Sum
from django.db.models.functions import Cast, TruncDay, TruncHour
from django.utils import timezone

from controlplane.metrics import catalogue as c
from controlplane.metrics.models import MetricDefinition, MetricPoint, MetricRollup


def definitions() -> list[c.Definition]:
    return [d.as_definition() for d in MetricDefinition.objects.all()]


def model_versions_in(region) -> list[str]:
    """``model:version`` of every version approved (or once approved) for the region."""
    if not apps.is_installed("controlplane.modelregistry"):
        return []
    from controlplane.modelregistry.models import DeploymentApproval

    rows = (
        DeploymentApproval.objects.filter(region=region, status__in=["approved", "retired"])
        .values_list("version__model__name", "version__version")
        .distinct()
    )
    return sorted({c.model_version_value(m, v) for m, v in rows})


def region_catalogue(region) -> list[dict]:
    return c.resolve(definitions(), model_versions=model_versions_in(region))


def bundle_metrics(region) -> dict:
    """The bundle's ``metrics`` part: the catalogue, k and epsilon of the region."""
    return {
        "k": region.metrics_k,
        "epsilon": region.metrics_epsilon,
        "catalogue": region_catalogue(region),
    }


# --------------------------------------------------------------------------------------------
# Series
# --------------------------------------------------------------------------------------------

RANGES = {
    "6h": timedelta(hours=6),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
DEFAULT_RANGE = "6h"


def resolution_for(span: timedelta) -> str:
    """Raw points up to a day, hourly roll-ups up to two weeks, daily beyond."""
    if span <= timedelta(days=1):
        return "raw"
    if span <= timedelta(days=14):
        return MetricRollup.HOUR
    return MetricRollup.DAY


def aggregate_points(queryset, *, trunc=None) -> list[dict]:
    """Sum counters and count-weight gauges and quantiles, per (region, metric, period, dims).

    One GROUP BY in the database. Several agents of a region reporting the same period add up.
    """
    period = trunc("period_start") if trunc else F("period_start")
    rows = (
        queryset.annotate(bucket=period)
        .values("region_id", "metric_id", "metric__kind", "bucket", "dims_key", "model_version")
        .annotate(
            total=Sum("value"),
            weighted=Sum(F("value") * Cast("count", FloatField())),
            observations=Sum("count"),
        )
        .order_by("bucket")
    )
    out = []
    for row in rows:
        if row["metric__kind"] == c.COUNTER:
            value = row["total"]
        else:
            value = row["weighted"] / row["observations"] if row["observations"] else 0.0
        out.append({**row, "value": value})
    return out


TRUNCS = {MetricRollup.HOUR: TruncHour, MetricRollup.DAY: TruncDay}


@dataclass
class Series:
    """One chart's worth: label -> [(time, value)], with the metric it shows."""

    metric: c.Definition
    lines: dict = field(default_factory=lambda: defaultdict(list))

    @property
    def empty(self) -> bool:
        return not any(self.lines.values())


def series(
    *,
    regions,
    metric: str,
    since: datetime,
    until: datetime | None = None,
    model_version: str | None = None,
    split: str = "model_version",
) -> dict:
    """``{region_id: Series}`` of one metric over a time range, at a resolution fit for it.

    ``regions`` is a queryset already narrowed by ``restrict()``. Lines are labelled by the
    ``split`` dimension (``model_version``, ``reason``) or "all" for the total.
    """
    until = until or timezone.now()
    definition = MetricDefinition.objects.get(name=metric)
    resolution = resolution_for(until - since)
    if resolution == "raw":
        base = MetricPoint.objects.all()
    else:
        base = MetricRollup.objects.filter(resolution=resolution)
    qs = base.filter(
        region__in=regions, metric=definition, period_start__gte=since, period_start__lt=until
    )
    if model_version:
        qs = qs.filter(model_version=model_version)
    wanted_sets = [tuple(s) for s in definition.dimension_sets]
    split_set = (split,) if (split,) in wanted_sets else ()
    qs = qs.exclude(dims_key="") if split_set else qs.filter(dims_key="")
    rows = aggregate_points(qs)
    out: dict = {}
    for row in rows:
        s = out.setdefault(row["region_id"], Series(definition.as_definition()))
        label = _label(row["dims_key"], split) if split_set else "all"
        s.lines[label].append((row["bucket"], row["value"]))
    return out


def _label(dims_key: str, split: str) -> str:
    for part in dims_key.split("|"):
        name, _, value = part.partition("=")
        if name == split:
            return value
    return "all"


def has_points(region) -> bool:
    return MetricPoint.objects.filter(region=region).exists()


def _approved_pairs(regions):
    if not apps.is_installed("controlplane.modelregistry"):
        return []
    from controlplane.modelregistry.models import DeploymentApproval

    return DeploymentApproval.objects.filter(
        region__in=regions, status__in=["approved", "retired"]
    ).values_list("region_id", "version__model__name", "version__version")


def model_versions_with_points(regions) -> list[str]:
    """Model versions approved (now or before) in the given, already restricted, regions."""
    return sorted({c.model_version_value(m, v) for _, m, v in _approved_pairs(regions)})


def regions_with_version(version: str, regions) -> list:
    """The regions among ``regions`` where ``version`` is or was approved, or reported."""
    regions = list(regions)
    ids = {
        region_id
        for region_id, m, v in _approved_pairs(regions)
        if c.model_version_value(m, v) == version
    }
    ids |= set(
        MetricRollup.objects.filter(region__in=regions, model_version=version)
        .values_list("region_id", flat=True)
        .distinct()
    )
    return [r for r in regions if r.pk in ids]
