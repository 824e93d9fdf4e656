"""One FilterSet per transfer list; the page and the API list share it."""

import django_filters
from django.db.models import Q

from controlplane.transfers import policy as p
from controlplane.transfers.models import (
    BASIS_CHOICES,
    KIND_CHOICES,
    STATUS_CHOICES,
    Mechanism,
    TransferRecord,
    TransferRequest,
    TransferStatus,
)
from controlplane.web.lists import ListFilterSet, ordering_filter, region_filter, status_filter
from regions.models import Jurisdiction

YES_NO = [("yes", "Yes"), ("no", "No")]


def _yes_no(queryset, field, value):
    return queryset.filter(**{field: value == "yes"}) if value else queryset


class TransferRequestFilterSet(ListFilterSet):
    """The DPO queue, "my requests" and ``/api/v1/transfers/requests/``."""

    search_fields = (
        "purpose",
        "exporter__name",
        "importer__name",
        "source_region__slug",
        "destination_country__name",
        "destination_country__code",
        "data_subjects",
    )
    status = status_filter(TransferStatus.choices)
    region = region_filter("source_region", "Source region")
    basis = django_filters.ChoiceFilter(
        choices=[("blocked", "Blocked"), *BASIS_CHOICES],
        method="filter_basis",
        empty_label="Any",
        label="Basis",
    )
    special = django_filters.ChoiceFilter(
        choices=YES_NO, method="filter_special", empty_label="Either", label="Special categories"
    )
    ordering = ordering_filter(
        ("id", "pk", "Request"),
        ("submitted", "submitted_at", "Submitted"),
        ("created", "created_at", "Created"),
        ("region", "source_region__slug", "Route"),
        ("status", "status", "Status"),
    )

    class Meta:
        model = TransferRequest
        fields = []

    def filter_basis(self, queryset, name, value):
        if value == "blocked":
            return queryset.filter(policy_allowed=False)
        return queryset.filter(policy_basis=value)

    def filter_special(self, queryset, name, value):
        return _yes_no(queryset, "has_special_categories", value)


class MechanismFilterSet(ListFilterSet):
    """The mechanisms register and ``/api/v1/transfers/mechanisms/``."""

    search_fields = (
        "name",
        "key",
        "reference",
        "to_country__name",
        "to_country__code",
        "to_organisation",
        "scope",
        "group",
    )
    regime = django_filters.ModelChoiceFilter(
        field_name="from_jurisdiction",
        to_field_name="code",
        queryset=Jurisdiction.objects.order_by("code"),
        empty_label="All",
        label="Regime",
    )
    kind = django_filters.ChoiceFilter(choices=KIND_CHOICES, empty_label="All", label="Kind")
    status = django_filters.ChoiceFilter(choices=STATUS_CHOICES, empty_label="Any", label="Status")
    ordering = ordering_filter(
        ("name", "name", "Name"),
        ("ends", "ends_on", "Ends"),
        ("review", "review_on", "Review"),
        ("status", "status", "Status"),
    )

    class Meta:
        model = Mechanism
        fields = []

    def search_also(self, word):
        """The Commission decision number counts only for clauses that rest on one."""
        return Q(kind__in=[p.KIND_SCC, p.KIND_UK_ADDENDUM], scc_decision__icontains=word)

    def filter_queryset(self, queryset):
        """Grouped by regime, then kind; the chosen order applies inside each group."""
        queryset = super().filter_queryset(queryset)
        chosen = self.form.cleaned_data.get("ordering") or ["name"]
        within = [self.filters["ordering"].get_ordering_value(param) for param in chosen]
        return queryset.order_by("from_jurisdiction__code", "kind", *within, "pk")


class TransferRecordFilterSet(ListFilterSet):
    """The transfer log and ``/api/v1/transfers/records/``."""

    search_fields = (
        "exporter_name",
        "importer_name",
        "source_region__slug",
        "destination_country__name",
        "destination_country__code",
        "reported_by",
    )
    region = region_filter("source_region", "Source region")
    basis = django_filters.ChoiceFilter(
        field_name="legal_basis", choices=BASIS_CHOICES, empty_label="Any", label="Basis"
    )
    violations = django_filters.ChoiceFilter(
        choices=[("1", "Only violations"), ("0", "No violations")],
        method="filter_violations",
        empty_label="All",
        label="Violations",
    )
    since = django_filters.DateFilter(
        field_name="executed_at", lookup_expr="date__gte", label="From (date)"
    )
    until = django_filters.DateFilter(
        field_name="executed_at", lookup_expr="date__lte", label="Until (date)"
    )
    ordering = ordering_filter(
        ("executed", "executed_at", "Executed"),
        ("region", "source_region__slug", "Route"),
        ("volume", "volume", "Volume"),
    )

    class Meta:
        model = TransferRecord
        fields = []

    def filter_violations(self, queryset, name, value):
        return queryset.filter(violation=value == "1") if value else queryset
