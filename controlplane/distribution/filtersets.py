"""The Agents list's one FilterSet; the page and ``/api/v1/agents/`` share it."""

import django_filters

from controlplane.web.lists import ListFilterSet, ordering_filter, region_filter
from regions.models import Agent


class AgentFilterSet(ListFilterSet):
    search_fields = ("name", "region__slug", "software_version", "last_error_code")
    region = region_filter()
    refusing = django_filters.ChoiceFilter(
        choices=[("yes", "Refusing a bundle"), ("no", "No refusal")],
        method="filter_refusing",
        empty_label="Either",
        label="Last report",
    )
    ordering = ordering_filter(
        ("name", "name", "Agent"),
        ("region", "region__slug", "Region"),
        ("seen", "last_seen", "Last seen"),
        ("applied", "applied_version", "Applied"),
    )

    class Meta:
        model = Agent
        fields = []

    def filter_refusing(self, queryset, name, value):
        if value == "yes":
            return queryset.exclude(last_error_code="")
        return queryset.filter(last_error_code="") if value == "no" else queryset
