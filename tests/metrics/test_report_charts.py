"""The regional status report embeds the metrics app's charts for what the region released."""

from datetime import timedelta

import pytest
from django.utils import timezone

from controlplane.reports import services
from tests.metrics.conftest import period_start
from tests.metrics.test_storage_pages_api import send
from tests.reports.conftest import pdf_text

pytestmark = pytest.mark.django_db


def test_regional_status_embeds_the_regions_released_metric_charts(
    post_batch, eu_version, registry, settings, tmp_path
):
    settings.REPORTS_DIR = tmp_path / "reports"
    send(post_batch, eu_version, start=period_start(), key="mb-reportchart01")
    today = timezone.localdate()
    report = services.report_request(
        kind="regional_status",
        period_start=today - timedelta(days=1),
        period_end=today,
        regions=[registry.eu_central, registry.uk_south],
        by=registry.admin,
    )
    report = services.report_generate(report_id=report.pk)
    assert report.status == "done", report.error
    pages, _ = pdf_text(services.file_path(report))
    text = " ".join(pages)
    # The same SVG the metrics pages draw: its title, and the k threshold written into it.
    assert "inference.requests in eu-central" in text
    assert "model.accuracy in eu-central" in text
    assert "k=10" in text
    # uk-south released nothing: no chart, a sentence instead.
    assert "in uk-south" not in text
    assert "No metric was released by this region's agents" in text
