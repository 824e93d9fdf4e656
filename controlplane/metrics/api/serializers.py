"""Serializers of the metrics API: the agent's batch (documentation), people's series and filters."""

from rest_framework import serializers

from controlplane.metrics import validation
from controlplane.metrics.selectors import RANGES


class MetricBatchItemSerializer(serializers.Serializer):
    metric = serializers.CharField(help_text="A metric name of the region's catalogue.")
    dimensions = serializers.DictField(
        child=serializers.CharField(), help_text="One of the metric's dimension sets."
    )
    value = serializers.FloatField()
    count = serializers.IntegerField(help_text="Observations in the cell; at least the region's k.")


class MetricBatchSerializer(serializers.Serializer):
    """What ``POST /api/v1/agent/metrics`` takes. Checked by ``validation.check_batch``."""

    idempotency_key = serializers.RegexField(validation.KEY_PATTERN.pattern)
    period_start = serializers.CharField(help_text="UTC, aligned: 2026-11-26T10:05:00Z")
    period_seconds = serializers.ChoiceField(choices=validation.PERIODS)
    items = MetricBatchItemSerializer(many=True, max_length=validation.MAX_ITEMS)
    suppressed = serializers.IntegerField(min_value=0, required=False)


class MetricBatchResultSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField()
    stored = serializers.IntegerField()
    period_start = serializers.CharField()
    period_seconds = serializers.IntegerField()
    replayed = serializers.BooleanField(required=False)


class MetricRefusalReasonSerializer(serializers.Serializer):
    field = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class MetricRefusalSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    reasons = MetricRefusalReasonSerializer(many=True)


class MetricPointSerializer(serializers.Serializer):
    region = serializers.CharField(source="region.slug")
    metric = serializers.CharField(source="metric.name")
    unit = serializers.CharField(source="metric.unit")
    resolution = serializers.SerializerMethodField()
    period_start = serializers.DateTimeField()
    period_seconds = serializers.SerializerMethodField()
    dimensions = serializers.DictField(child=serializers.CharField())
    value = serializers.FloatField()
    count = serializers.IntegerField()

    def get_resolution(self, obj) -> str:
        return getattr(obj, "resolution", "raw")

    def get_period_seconds(self, obj) -> int:
        if hasattr(obj, "period_seconds"):
            return obj.period_seconds
        return 3600 if obj.resolution == "hour" else 86400


class MetricSeriesQuerySerializer(serializers.Serializer):
    region = serializers.SlugField(required=False)
    metric = serializers.CharField(required=False, max_length=80)
    model_version = serializers.CharField(required=False, max_length=130)
    resolution = serializers.ChoiceField(choices=["raw", "hour", "day"], default="raw")
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)
    range = serializers.ChoiceField(choices=sorted(RANGES), required=False)

    def validate(self, attrs):
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"since": "Must be before until."})
        return attrs
