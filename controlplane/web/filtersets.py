"""The audit trail's one FilterSet: person, object, action, region and period."""

import django_filters
from django import forms

from controlplane.audit.models import ActorKind, AuditEvent
from controlplane.web.lists import ListFilterSet, ordering_filter, visible_regions


class AuditEventFilterSet(ListFilterSet):
    search_fields = ("actor_label", "action", "object_repr")
    actor = django_filters.CharFilter(
        field_name="actor_label", lookup_expr="icontains", label="Person or agent"
    )
    actor_kind = django_filters.ChoiceFilter(
        choices=ActorKind.choices, empty_label="Any kind", label="Actor kind"
    )
    action = django_filters.CharFilter(
        field_name="action",
        lookup_expr="startswith",
        label="Action",
        help_text="e.g. region. or transfer.approved",
    )
    object = django_filters.CharFilter(
        field_name="object_repr", lookup_expr="icontains", label="Object"
    )
    object_type = django_filters.CharFilter(
        field_name="object_type", lookup_expr="iexact", label="Object type"
    )
    region = django_filters.ModelChoiceFilter(
        queryset=visible_regions, to_field_name="slug", method="filter_region", label="Region"
    )
    since = django_filters.DateTimeFilter(
        field_name="occurred_at",
        lookup_expr="gte",
        label="From",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = django_filters.DateTimeFilter(
        field_name="occurred_at",
        lookup_expr="lte",
        label="Until",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    ordering = ordering_filter(("sequence", "sequence", "#"), ("when", "occurred_at", "When"))

    class Meta:
        model = AuditEvent
        fields = []

    def filter_region(self, queryset, name, value):
        return queryset.filter(region=value.slug) if value else queryset
