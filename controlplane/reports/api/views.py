"""Exports through the API: the same datasets and filters as the list pages, streamed."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from controlplane.reports import exports


class ExportView(APIView):
    """GET /api/v1/exports/<dataset>.<csv|json>?<the list's filters>."""

    @extend_schema(
        parameters=[
            OpenApiParameter("dataset", str, OpenApiParameter.PATH, enum=sorted(exports.DATASETS)),
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=sorted(exports.FORMATS)),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR, (200, "application/json"): OpenApiTypes.ANY},
        description="Streams every row the list would show with these filters, as CSV or JSON.",
    )
    def get(self, request, dataset, fmt):
        try:
            return exports.response(dataset, fmt, request.user, request.query_params)
        except exports.ExportError as error:
            raise ValidationError({"filters": str(error)}) from error
