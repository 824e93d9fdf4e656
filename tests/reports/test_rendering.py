"""The renderer's guarantees that do not need the demo estate: fonts, failure, the timeline."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from controlplane.audit.models import AuditEvent
from controlplane.reports import services
from controlplane.reports.timeline import TimelineItem, expiry_timeline_svg
from regions.models import Region


def test_the_timeline_draws_one_bar_per_mechanism_and_its_marks():
    today = date(2026, 6, 1)
    svg = expiry_timeline_svg(
        [
            TimelineItem("SCCs A / B", date(2024, 1, 1), ends_on=date(2027, 1, 1)),
            TimelineItem("BCRs <group>", date(2020, 1, 1), review_on=date(2026, 7, 1)),
            TimelineItem("IDTA C / D", date(2025, 1, 1), tia_until=date(2026, 9, 1)),
        ],
        today=today,
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 3 + 1  # three bars and the legend's swatch
    assert "BCRs &lt;group&gt;" in svg  # labels are escaped
    assert "today 2026-06-01" in svg
    assert svg.count('fill="#b91c1c"') == 1 + 1  # one end mark, plus the legend's
    assert svg.count('fill="#1d4ed8"') == 1 + 1
    assert svg.count('fill="#b45309"') == 1 + 1


@pytest.mark.django_db
def test_missing_fonts_fail_the_report_with_a_clear_message(estate, settings, tmp_path):
    settings.REPORT_FONT_DIR = tmp_path / "no-fonts"
    today = timezone.localdate()
    report = services.report_request(
        kind="regional_status",
        period_start=today - timedelta(days=30),
        period_end=today,
        regions=[Region.objects.get(slug="eu-central")],
        by=estate.admin,
    )
    report = services.report_generate(report_id=report.pk)
    assert report.status == "failed"
    assert "fonts-dejavu-core" in report.error
    assert report.file == "" and not list(settings.REPORTS_DIR.rglob("*.pdf"))
    event = AuditEvent.objects.get(action="report.failed", object_id=str(report.pk))
    assert "fonts-dejavu-core" in event.data["error"]
