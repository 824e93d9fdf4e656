"""The metric refusal log's one FilterSet (the shared list mechanism, controlplane.web.lists)."""

import django_filters
from django import forms

from controlplane.metrics.models import MetricRefusal
from controlplane.web.lists import ListFilterSet, ordering_filter, region_filter


class MetricRefusalFilterSet(ListFilterSet):
    search_fields = ("region__slug", "agent__name")
    region = region_filter()
    code = django_filters.CharFilter(method="filter_code", label="Reason code")
    since = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__gte",
        label="From (date)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        field_name="at",
        lookup_expr="date__lte",
        label="Until (date)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    ordering = ordering_filter(
        ("at", "at", "When"), ("region", "region__slug", "Region"), ("size", "body_bytes", "Size")
    )

    class Meta:
        model = MetricRefusal
        fields = []

    def filter_code(self, queryset, name, value):
        return queryset.filter(codes__icontains=f'"{value.strip().upper()}"')
