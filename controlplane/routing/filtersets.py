"""The routing lists' FilterSets (the shared list mechanism, ``controlplane.web.lists``).

``EndpointFilterSet``: the inference endpoints page and ``/api/v1/routing/endpoints/``.
``UserJurisdictionFilterSet``: the rows of the routing matrix page and of
``/api/v1/routing/table``; "gap" is a fact of the routing table, which the caller hands in.
"""

import django_filters
from django.db.models import Q

from controlplane.routing.models import ServedModel
from controlplane.web.lists import ListFilterSet, ordering_filter, region_filter
from regions.models import Country, InferenceEndpoint, Jurisdiction

YES_NO = [("yes", "Yes"), ("no", "No")]


class EndpointFilterSet(ListFilterSet):
    search_fields = ("name", "url", "region__slug")
    region = region_filter()
    serving = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_serving", empty_label="Either", label="Serves traffic"
    )
    logs = django_filters.ChoiceFilter(
        choices=[("yes", "In a store of its region"), ("no", "No log store: never routed to")],
        method="filter_logs",
        empty_label="Either",
        label="Inference logs",
    )
    model = django_filters.CharFilter(method="filter_model", label="Serves model")
    category = django_filters.CharFilter(method="filter_category", label="Takes category")
    ordering = ordering_filter(
        ("region", "region__slug", "Region"),
        ("name", "name", "Endpoint"),
        ("priority", "priority", "Priority"),
        ("latency", "latency_hint_ms", "Latency"),
    )

    class Meta:
        model = InferenceEndpoint
        fields = []

    def filter_serving(self, queryset, name, value):
        return queryset.filter(serves_traffic=value == "yes")

    def filter_logs(self, queryset, name, value):
        return queryset.filter(log_store__isnull=value == "no")

    def filter_model(self, queryset, name, value):
        served = ServedModel.objects.filter(model__name__iexact=value).values("endpoint")
        return queryset.filter(pk__in=served)

    def filter_category(self, queryset, name, value):
        taking = InferenceEndpoint.objects.filter(input_categories__key=value).values("pk")
        return queryset.filter(pk__in=taking)


class UserJurisdictionFilterSet(ListFilterSet):
    """Which users' rows to show: search a jurisdiction by code or name, or by one of its
    countries ("Japan", "JP"); or only the jurisdictions whose users have no lawful endpoint."""

    search_fields = ("code", "name")
    gap = django_filters.ChoiceFilter(
        choices=[("yes", "Only those with no lawful endpoint"), ("no", "Only those served")],
        method="filter_gap",
        empty_label="All",
        label="Gaps",
    )

    class Meta:
        model = Jurisdiction
        fields = []

    def __init__(self, *args, gaps=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.gaps = frozenset(gaps)

    @classmethod
    def for_table(cls, request, table, params):
        """Bound to ``params`` over every jurisdiction, with ``table``'s gaps (the page and
        ``/api/v1/routing/table`` both narrow their rows with this)."""
        return cls(
            params, queryset=Jurisdiction.objects.order_by("code"), request=request, gaps=table.gaps()
        )

    def search_also(self, word):
        countries = Country.objects.filter(Q(name__icontains=word) | Q(code__iexact=word))
        return Q(pk__in=countries.values("jurisdiction"))

    def filter_gap(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(code__in=self.gaps)
        return queryset.exclude(code__in=self.gaps)

    def codes(self) -> set[str]:
        return set(self.qs.values_list("code", flat=True))

    def narrows(self) -> bool:
        """Whether any filter was given (without one, every row of the table stays)."""
        return any(self.form.cleaned_data.get(name) for name in self.filters)
