"""The regions list's one FilterSet; the page and ``/api/v1/regions/`` share it."""

import django_filters

from controlplane.web.lists import ListFilterSet, ordering_filter
from regions.models import Jurisdiction, Provider, Region


class RegionFilterSet(ListFilterSet):
    search_fields = ("slug", "name", "cloud_region", "country__name", "jurisdiction__code")
    jurisdiction = django_filters.ModelChoiceFilter(
        field_name="jurisdiction",
        to_field_name="code",
        queryset=Jurisdiction.objects.order_by("code"),
        empty_label="All",
        label="Jurisdiction",
    )
    provider = django_filters.ChoiceFilter(
        choices=Provider.choices, empty_label="Any", label="Provider"
    )
    ordering = ordering_filter(
        ("slug", "slug", "Region"),
        ("name", "name", "Name"),
        ("jurisdiction", "jurisdiction__code", "Jurisdiction"),
        ("provider", "provider", "Location"),
    )

    class Meta:
        model = Region
        fields = []
