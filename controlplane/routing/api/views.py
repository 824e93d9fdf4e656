"""Routing API. Thin: the table comes from the selectors, answers from ``agents.routing``."""

from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.routing import RoutingInputError, resolve
from controlplane.api.filters import bad_filters
from controlplane.api.permissions import PeopleOnly
from controlplane.routing import exports, selectors, services
from controlplane.routing.api.serializers import EndpointRoutingSerializer, ResolveQuerySerializer
from controlplane.routing.filtersets import EndpointFilterSet, UserJurisdictionFilterSet
from controlplane.web.lists import BadFilters


class SignedInPeople(BasePermission):
    """Reading the table changes nothing: every signed-in person, auditors included."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


def _scoped_table(request, table=None):
    table = table or selectors.routing_table()
    visible = selectors.visible_region_slugs(request.user)
    return table, visible, selectors.scoped(table.as_dict(), visible)


class ResolveView(APIView):
    permission_classes = [SignedInPeople]

    @extend_schema(
        summary="Where may a user from this country be served?",
        description="The ordered inference endpoints that may serve a user from `country`, "
        "each with its legal reason (same jurisdiction, adequacy, or an approved transfer in "
        "effect that covers every `category`). `gap` is true when no endpoint may serve them. "
        "People see the endpoints of the regions they may view.",
        parameters=[
            OpenApiParameter("country", str, required=True, description="ISO 3166-1 alpha-2"),
            OpenApiParameter(
                "category",
                str,
                many=True,
                description="Data category keys the request carries (repeatable).",
            ),
            OpenApiParameter("model", str, description="Only endpoints serving this model."),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        query = ResolveQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        _, _, table = _scoped_table(request)
        try:
            answer = resolve(
                table,
                data["country"],
                [c.key for c in data.get("category", [])],
                data.get("model"),
            )
        except RoutingInputError as error:
            return Response({error.field: [error.message]}, status=400)
        return Response(answer)


class TableView(APIView):
    permission_classes = [SignedInPeople]

    @extend_schema(
        summary="The whole inference routing table",
        description="Per user jurisdiction, the ordered endpoints with reasons and whether it "
        "is a gap; `countries` maps each country to its jurisdiction; `matrix` gives the legal "
        "footing of every (user jurisdiction, region) pair. People see the regions they may "
        "view. The routing page's filters (`q`: a jurisdiction or one of its countries; `gap`) "
        "narrow `jurisdictions`, `countries` and `matrix` to the same rows as the page.",
        parameters=[
            OpenApiParameter("q", str, description="A jurisdiction's code or name, or a country's."),
            OpenApiParameter("gap", str, enum=["yes", "no"]),
        ],
        responses={200: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        table, visible, body = _scoped_table(request)
        rows = UserJurisdictionFilterSet.for_table(request, table, request.query_params)
        if not rows.is_valid():
            raise bad_filters(BadFilters(rows))
        codes = rows.codes() if rows.narrows() else None

        def shown(code):
            return codes is None or code in codes

        body["jurisdictions"] = {c: e for c, e in body["jurisdictions"].items() if shown(c)}
        body["countries"] = {c: j for c, j in body["countries"].items() if shown(j)}
        body["matrix"] = {
            j: {s: c.as_dict() for s, c in row.items() if visible is None or s in visible}
            for j, row in sorted(table.cells.items())
            if shown(j)
        }
        return Response(body)


EXPORTS = {
    "gateway.json": ("application/json", lambda t: exports.gateway_json(t)),
    "edge.json": ("application/json", lambda t: exports.edge_json(t)),
    "nginx.conf": ("text/plain; charset=utf-8", lambda t: exports.nginx_map(t)),
}


class ExportView(APIView):
    permission_classes = [SignedInPeople]

    @extend_schema(
        summary="The table for a gateway: gateway.json, edge.json or nginx.conf",
        responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/plain"): str},
    )
    def get(self, request, name):
        if name not in EXPORTS:
            raise Http404(f"No export named {name!r}; choose one of {sorted(EXPORTS)}.")
        content_type, render = EXPORTS[name]
        _, _, table = _scoped_table(request)
        response = HttpResponse(render(table), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="routing-{name}"'
        return response


class EndpointRoutingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """What routing knows about each endpoint; PATCH changes it (audited, republished)."""

    permission_classes = [PeopleOnly]
    serializer_class = EndpointRoutingSerializer
    filterset_class = EndpointFilterSet
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.endpoints(self.request.user)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.endpoint_routing_update(
            endpoint=serializer.instance,
            by=self.request.user,
            input_categories=data.pop("input_categories", None),
            models=data.pop("models", None),
            **data,
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)
