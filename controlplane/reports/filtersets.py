"""The reports list: one FilterSet for the Reports page and ``/api/v1/reports/``."""

import django_filters

from controlplane.reports.models import Report, ReportKind, ReportStatus
from controlplane.web.lists import ListFilterSet, ordering_filter


class ReportFilterSet(ListFilterSet):
    """Over the reports the person may see (``selectors.visible_reports``)."""

    search_fields = ("scope_label",)
    kind = django_filters.ChoiceFilter(
        choices=ReportKind.choices, empty_label="Any", label="Report"
    )
    status = django_filters.ChoiceFilter(
        choices=ReportStatus.choices, empty_label="Any", label="Status"
    )
    ordering = ordering_filter(
        ("requested", "requested_at", "Requested"),
        ("period", "period_end", "Period"),
        ("kind", "kind", "Report"),
        ("status", "status", "Status"),
    )

    class Meta:
        model = Report
        fields = []
