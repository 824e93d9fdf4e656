"""The metrics API: agents post batches; people read series, scoped by ``restrict()``."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from controlplane.distribution.api.views import AgentAPIView
from controlplane.metrics import services, validation
from controlplane.metrics.api import serializers as s
from controlplane.metrics.models import MetricPoint, MetricRollup
from controlplane.metrics.selectors import RANGES
from controlplane.permissions import restrict


class AgentMetricsView(AgentAPIView):
    """``POST /api/v1/agent/metrics``: one period's aggregates from the agent's own region."""

    @extend_schema(
        request=s.MetricBatchSerializer,
        responses={
            201: s.MetricBatchResultSerializer,
            200: s.MetricBatchResultSerializer,
            400: s.MetricRefusalSerializer,
            409: s.MetricRefusalSerializer,
            413: s.MetricRefusalSerializer,
        },
    )
    def post(self, request):
        length = request.META.get("CONTENT_LENGTH") or ""
        if not length.isdigit():
            return Response({"detail": "Content-Length is required."}, status=411)
        if int(length) > validation.MAX_BODY_BYTES:
            result = services.metrics_refuse_oversized(principal=request.user, size=int(length))
        else:
            result = services.metrics_ingest(principal=request.user, body=request.body)
        return Response(result.body, status=result.status)


RESOLUTION_MODELS = {"raw": MetricPoint, "hour": MetricRollup, "day": MetricRollup}


@extend_schema(
    parameters=[s.MetricSeriesQuerySerializer],
    description="Aggregates of the regions you may see, oldest first. Filters: region, metric, "
    "model_version, resolution (raw, hour, day), since/until or range (6h, 24h, 7d, 30d).",
)
class MetricSeriesList(generics.ListAPIView):
    serializer_class = s.MetricPointSerializer

    def get_queryset(self):
        query = s.MetricSeriesQuerySerializer(data=self.request.query_params)
        if not query.is_valid():
            raise ValidationError(query.errors)
        q = query.validated_data
        model = RESOLUTION_MODELS[q["resolution"]]
        qs = model.objects.select_related("region", "metric")
        if model is MetricRollup:
            qs = qs.filter(resolution=q["resolution"])
        qs = restrict(qs, self.request.user, "view")
        if q.get("region"):
            qs = qs.filter(region__slug=q["region"])
        if q.get("metric"):
            qs = qs.filter(metric__name=q["metric"])
        if q.get("model_version"):
            qs = qs.filter(model_version=q["model_version"])
        if q.get("range"):
            qs = qs.filter(period_start__gte=timezone.now() - RANGES[q["range"]])
        if q.get("since"):
            qs = qs.filter(period_start__gte=q["since"])
        if q.get("until"):
            qs = qs.filter(period_start__lt=q["until"])
        return qs.order_by("period_start", "region__slug", "metric__name", "dims_key", "pk")
