"""The inbox's one FilterSet."""

import django_filters

from controlplane.notifications.models import Notice
from controlplane.notifications.registry import KINDS
from controlplane.web.lists import ListFilterSet, ordering_filter


class NoticeFilterSet(ListFilterSet):
    search_fields = ("title", "body", "region")
    state = django_filters.ChoiceFilter(
        choices=[("unread", "Unread"), ("read", "Read")],
        method="filter_state",
        empty_label="All",
        label="Show",
    )
    kind = django_filters.ChoiceFilter(
        choices=list(KINDS.items()), empty_label="Any", label="About"
    )
    ordering = ordering_filter(("created", "created_at", "When"), ("kind", "kind", "About"))

    class Meta:
        model = Notice
        fields = []

    def filter_state(self, queryset, name, value):
        if value == "unread":
            return queryset.filter(read_at__isnull=True)
        return queryset.filter(read_at__isnull=False) if value == "read" else queryset
