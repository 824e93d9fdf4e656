"""The metric catalogue, accepted batches, their points, roll-ups, and the refusal log.

Rows here change only through ``services``: ingestion writes batches and points in bulk, the
roll-up task upserts roll-ups, retention deletes. The refusal log keeps who, when and why,
never what was sent.
"""

from django.core.validators import RegexValidator
from django.db import models

from controlplane.metrics import catalogue as c
from regions.models import Agent, Region


class MetricDefinition(models.Model):
    KIND_CHOICES = [(c.COUNTER, "Counter"), (c.GAUGE, "Gauge"), (c.QUANTILE, "Quantile")]

    name = models.CharField(
        max_length=80,
        unique=True,
        validators=[RegexValidator(c.NAME_PATTERN, "Dotted lower-case words: inference.requests")],
    )
    unit = models.CharField(max_length=20)
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    description = models.CharField(max_length=200, blank=True)
    dimensions = models.JSONField(
        default=dict, blank=True, help_text='dimension -> "registry" or a list of allowed values'
    )
    dimension_sets = models.JSONField(default=list)
    minimum = models.FloatField()
    maximum = models.FloatField()
    observe = models.CharField(max_length=80, blank=True)
    quantile = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def as_definition(self) -> c.Definition:
        return c.Definition(
            name=self.name,
            unit=self.unit,
            kind=self.kind,
            description=self.description,
            dimensions=self.dimensions,
            dimension_sets=tuple(tuple(s) for s in self.dimension_sets),
            minimum=self.minimum,
            maximum=self.maximum,
            observe=self.observe,
            quantile=self.quantile,
        )


class MetricBatch(models.Model):
    """One accepted batch: the idempotency record. A retry with its key answers ``result``."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, related_name="+")
    idempotency_key = models.CharField(max_length=100)
    body_digest = models.CharField(max_length=80)
    period_start = models.DateTimeField()
    period_seconds = models.PositiveIntegerField()
    point_count = models.PositiveIntegerField()
    suppressed = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField()
    rolled_up = models.BooleanField(default=False)

    region_path = "region"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["region", "idempotency_key"], name="unique_metric_batch_key"
            )
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="metric_batch_to_roll_up",
                condition=models.Q(rolled_up=False),
            )
        ]

    def __str__(self):
        return f"{self.region_id}:{self.idempotency_key}"

    def result(self) -> dict:
        return {
            "idempotency_key": self.idempotency_key,
            "stored": self.point_count,
            "period_start": self.period_start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "period_seconds": self.period_seconds,
        }


class MetricPoint(models.Model):
    """One aggregate for one period, as an agent sent it (the raw resolution)."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    metric = models.ForeignKey(MetricDefinition, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateTimeField()
    period_seconds = models.PositiveIntegerField()
    dims_key = models.CharField(max_length=200, blank=True)
    dimensions = models.JSONField(default=dict)
    model_version = models.CharField(max_length=130, blank=True)
    value = models.FloatField()
    count = models.BigIntegerField()
    batch = models.ForeignKey(MetricBatch, on_delete=models.CASCADE, related_name="points")

    region_path = "region"

    class Meta:
        indexes = [
            models.Index(fields=["region", "metric", "period_start"], name="metric_point_series"),
            models.Index(fields=["period_start"], name="metric_point_period"),
        ]

    def __str__(self):
        return f"{self.metric_id} {self.period_start:%Y-%m-%d %H:%M} {self.dims_key}"


class MetricRollup(models.Model):
    """Hourly and daily aggregates of the raw points, recomputed (upserted) idempotently."""

    HOUR, DAY = "hour", "day"
    RESOLUTIONS = [(HOUR, "Hour"), (DAY, "Day")]

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    metric = models.ForeignKey(MetricDefinition, on_delete=models.PROTECT, related_name="+")
    resolution = models.CharField(max_length=4, choices=RESOLUTIONS)
    period_start = models.DateTimeField()
    dims_key = models.CharField(max_length=200, blank=True)
    dimensions = models.JSONField(default=dict)
    model_version = models.CharField(max_length=130, blank=True)
    value = models.FloatField()
    count = models.BigIntegerField()
    computed_at = models.DateTimeField()

    region_path = "region"

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["region", "metric", "resolution", "period_start", "dims_key"],
                name="unique_metric_rollup",
            )
        ]
        indexes = [
            models.Index(
                fields=["region", "metric", "resolution", "period_start"],
                name="metric_rollup_series",
            ),
            models.Index(fields=["resolution", "period_start"], name="metric_rollup_period"),
        ]

    def __str__(self):
        return f"{self.metric_id} {self.resolution} {self.period_start:%Y-%m-%d %H:%M}"


class MetricRefusal(models.Model):
    """A refused batch: which agent, when, and the reasons (codes and paths). Never the value."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(db_index=True)
    codes = models.JSONField(default=list)
    reasons = models.JSONField(default=list)
    more_reasons = models.PositiveIntegerField(default=0)
    body_bytes = models.PositiveIntegerField()

    region_path = "region"

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.region_id} {self.at:%Y-%m-%d %H:%M} {', '.join(self.codes)}"
