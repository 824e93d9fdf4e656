"""Exports through the API: the same datasets and filters as the list pages, streamed."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from controlplane.api.filters import bad_filters
from controlplane.reports import exports
from controlplane.web.lists import BadFilters


class ExportView(APIView):
    """GET /api/v1/exports/<dataset>.<csv|json>?<the list's filters>."""

    @extend_schema(
        parameters=[
            OpenApiParameter("dataset", str, OpenApiParameter.PATH, enum=sorted(exports.DATASETS)),
            OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=sorted(exports.FORMATS)),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): OpenApiTypes.ANY,  # the rows, a JSON array
            400: OpenApiTypes.OBJECT,
        },
        description="Streams every row the list page would show with these filters (its "
        "search `q`, its filters, its `ordering` and its default filters; all pages), as CSV "
        "or JSON. A bad filter value answers 400 as the list API does.",
    )
    def get(self, request, dataset, fmt):
        try:
            return exports.response(dataset, fmt, request, request.query_params)
        except BadFilters as error:
            raise bad_filters(error) from error
