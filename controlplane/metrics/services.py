"""Writes: strict ingestion of agents' aggregates, roll-ups and retention.

Ingestion stores a batch entirely or not at all. A refused batch leaves no metric row, only a
``MetricRefusal`` with the agent, the time and the reasons (codes and paths, never values).
A retry carrying an accepted batch's idempotency key answers the first result and stores nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from controlplane.metrics import selectors, validation
from controlplane.metrics.models import (
    MetricBatch,
    MetricDefinition,
    MetricPoint,
    MetricRefusal,
    MetricRollup,
)
from regions.models import Region

log = logging.getLogger(__name__)


def raw_retention() -> timedelta:
    return timedelta(days=settings.METRICS_RETENTION_RAW_DAYS)


@dataclass(frozen=True)
class IngestResult:
    status: int  # 201 stored, 200 a retry of a stored batch, 4xx refused
    body: dict


def _refuse(*, principal, region_id, checked, size: int, now, status: int = 400) -> IngestResult:
    MetricRefusal.objects.create(
        region_id=region_id,
        agent_id=principal.id,
        at=now,
        codes=checked.codes,
        reasons=checked.reasons,
        more_reasons=checked.more_reasons,
        body_bytes=size,
    )
    log.warning("refused a metric batch from agent %s: %s", principal.id, ", ".join(checked.codes))
    body = {
        "detail": "Refused: nothing of this batch was stored.",
        "code": "refused",
        "reasons": checked.reasons,
    }
    if checked.more_reasons:
        body["more_reasons"] = checked.more_reasons
    return IngestResult(status, body)


def _replay(region_id: int, key: str, digest: str) -> IngestResult | None:
    batch = MetricBatch.objects.filter(region_id=region_id, idempotency_key=key).first()
    if batch is None:
        return None
    if batch.body_digest != digest:
        return IngestResult(
            409,
            {
                "detail": "This idempotency key was used for a different batch.",
                "code": "key_reused",
                "reasons": [
                    {
                        "field": "idempotency_key",
                        "code": "key_reused",
                        "message": "Already used for a different batch.",
                    }
                ],
            },
        )
    return IngestResult(200, {**batch.result(), "replayed": True})


def metrics_refuse_oversized(*, principal, size: int, now=None) -> IngestResult:
    """A body announced larger than the cap is refused before it is read."""
    checked = validation.Checked()
    checked.refuse("body", "too_large", f"The body exceeds {validation.MAX_BODY_BYTES} bytes.")
    return _refuse(
        principal=principal,
        region_id=principal.region_id,
        checked=checked,
        size=size,
        now=now or timezone.now(),
        status=413,
    )


def metrics_ingest(*, principal, body: bytes, now=None) -> IngestResult:
    """Check and store one batch from ``principal`` (an authenticated agent of one region)."""
    now = now or timezone.now()
    region = Region.objects.only("pk", "metrics_k").get(pk=principal.region_id)
    digest = validation.body_digest(body)
    entries = {e["name"]: e for e in selectors.region_catalogue(region)}
    checked = validation.check_batch(
        body, catalogue=entries, k=region.metrics_k, now=now, retention=raw_retention()
    )
    if checked.key:
        replay = _replay(region.pk, checked.key, digest)
        if replay is not None:
            return replay
    if not checked.accepted:
        return _refuse(
            principal=principal, region_id=region.pk, checked=checked, size=len(body), now=now
        )
    metric_ids = dict(MetricDefinition.objects.values_list("name", "pk"))
    try:
        with transaction.atomic():
            batch = MetricBatch.objects.create(
                region_id=region.pk,
                agent_id=principal.id,
                idempotency_key=checked.key,
                body_digest=digest,
                period_start=checked.period_start,
                period_seconds=checked.period_seconds,
                point_count=len(checked.items),
                suppressed=checked.suppressed,
                received_at=now,
            )
            _store_points(
                [
                    (
                        region.pk,
                        metric_ids[item.metric],
                        checked.period_start,
                        checked.period_seconds,
                        item.dims_key,
                        item.dimensions,
                        item.dimensions.get("model_version", ""),
                        item.value,
                        item.count,
                        batch.pk,
                    )
                    for item in checked.items
                ]
            )
    except IntegrityError:
        # The same key raced in from another request: answer what that one stored.
        replay = _replay(region.pk, checked.key, digest)
        if replay is None:
            raise
        return replay
    return IngestResult(201, batch.result())


POINT_COLUMNS = (
    "region_id",
    "metric_id",
    "period_start",
    "period_seconds",
    "dims_key",
    "dimensions",
    "model_version",
    "value",
    "count",
    "batch_id",
)


def _store_points(rows: list[tuple]) -> None:
    """Bulk insert of ``POINT_COLUMNS`` tuples: ``COPY`` on PostgreSQL, else bulk_create."""
    if connection.vendor != "postgresql":
        MetricPoint.objects.bulk_create(
            [MetricPoint(**dict(zip(POINT_COLUMNS, row, strict=True))) for row in rows],
            batch_size=1000,
        )
        return
    table = connection.ops.quote_name(MetricPoint._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in POINT_COLUMNS)
    dims = POINT_COLUMNS.index("dimensions")
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            row = list(row)
            row[dims] = json.dumps(row[dims], sort_keys=True)
            copy.write_row(row)


def seed_catalogue() -> int:
    """Create or refresh the seed definitions (the data migration does the same)."""
    from controlplane.metrics.catalogue import SEED

    for d in SEED:
        MetricDefinition.objects.update_or_create(
            name=d.name,
            defaults={
                "unit": d.unit,
                "kind": d.kind,
                "description": d.description,
                "dimensions": d.dimensions,
                "dimension_sets": [list(s) for s in d.dimension_sets],
                "minimum": d.minimum,
                "maximum": d.maximum,
                "observe": d.observe,
                "quantile": d.quantile,
            },
        )
    return len(SEED)


# --------------------------------------------------------------------------------------------
# Roll-ups and retention
# --------------------------------------------------------------------------------------------


def _bucket_start(moment, resolution):
    moment = moment.replace(minute=0, second=0, microsecond=0)
    if resolution == MetricRollup.DAY:
        moment = moment.replace(hour=0)
    return moment


def _bucket_span(resolution) -> timedelta:
    return timedelta(hours=1) if resolution == MetricRollup.HOUR else timedelta(days=1)


def roll_up(*, now=None, limit: int = 5000) -> dict:
    """Recompute the hourly and daily roll-ups touched by batches not yet rolled up.

    Each touched bucket is recomputed from all its raw points and upserted, so running this
    twice, or concurrently, or after a late batch, gives the same rows.
    """
    now = now or timezone.now()
    pending = list(
        MetricBatch.objects.filter(rolled_up=False)
        .order_by("received_at")
        .values_list("pk", "region_id", "period_start")[:limit]
    )
    if not pending:
        return {"batches": 0, "rollups": 0}
    written = 0
    for resolution in (MetricRollup.HOUR, MetricRollup.DAY):
        buckets = {(region_id, _bucket_start(start, resolution)) for _, region_id, start in pending}
        by_region: dict = {}
        for region_id, start in buckets:
            by_region.setdefault(region_id, set()).add(start)
        for region_id, starts in by_region.items():
            written += _recompute(region_id, sorted(starts), resolution, now)
    MetricBatch.objects.filter(pk__in=[pk for pk, _, _ in pending]).update(rolled_up=True)
    return {"batches": len(pending), "rollups": written}


def _recompute(region_id, starts, resolution, now) -> int:
    span = _bucket_span(resolution)
    rows = []
    for start in starts:
        points = MetricPoint.objects.filter(
            region_id=region_id, period_start__gte=start, period_start__lt=start + span
        )
        for row in selectors.aggregate_points(points, trunc=selectors.TRUNCS[resolution]):
            rows.append(
                MetricRollup(
                    region_id=region_id,
                    metric_id=row["metric_id"],
                    resolution=resolution,
                    period_start=start,
                    dims_key=row["dims_key"],
                    dimensions=_dims_from_key(row["dims_key"]),
                    model_version=row["model_version"],
                    value=row["value"],
                    count=row["observations"],
                    computed_at=now,
                )
            )
    MetricRollup.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["region", "metric", "resolution", "period_start", "dims_key"],
        update_fields=["value", "count", "computed_at", "dimensions", "model_version"],
        batch_size=1000,
    )
    return len(rows)


def _dims_from_key(key: str) -> dict:
    if not key:
        return {}
    return dict(part.split("=", 1) for part in key.split("|"))


def apply_retention(*, now=None) -> dict:
    """Delete what is past its resolution's retention. Idempotent."""
    now = now or timezone.now()
    raw_cutoff = now - raw_retention()
    deleted = {
        "points": MetricPoint.objects.filter(period_start__lt=raw_cutoff).delete()[0],
        "batches": MetricBatch.objects.filter(period_start__lt=raw_cutoff, rolled_up=True).delete()[
            0
        ],
        "hour": MetricRollup.objects.filter(
            resolution=MetricRollup.HOUR,
            period_start__lt=now - timedelta(days=settings.METRICS_RETENTION_HOUR_DAYS),
        ).delete()[0],
        "day": MetricRollup.objects.filter(
            resolution=MetricRollup.DAY,
            period_start__lt=now - timedelta(days=settings.METRICS_RETENTION_DAY_DAYS),
        ).delete()[0],
        "refusals": MetricRefusal.objects.filter(
            at__lt=now - timedelta(days=settings.METRICS_REFUSAL_RETENTION_DAYS)
        ).delete()[0],
    }
    return deleted
