"""In a real headless Chromium, with a real Celery worker: a DPO asks for a record of transfers,
watches the task's progress, and downloads the PDF whose SHA-256 the page shows."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from controlplane.reports.models import Report
from tests.reports.conftest import bulk_transfers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(postgres, redis_url, settings, tmp_path):
    settings.REPORTS_DIR = tmp_path / "reports"
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "REPORTS_DIR": str(settings.REPORTS_DIR),
        "REPORT_CHUNK_ROWS": "40",  # several chunks, so the percentage moves in steps
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "BUNDLE_PUSH_ENABLED": "0",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "worker.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "controlplane", "worker", "--pool=solo",
             "-l", "INFO", "-Q", "celery"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while "ready" not in log_path.read_text(errors="replace"):
        assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
        time.sleep(0.2)
    yield log_path
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_a_dpo_asks_for_a_report_sees_progress_and_downloads_it(
    estate, worker, page, login, live_server, tmp_path
):
    bulk_transfers(240, regions=[estate.eu_central, estate.eu_west])
    login(page, "dpo-eu", estate.password)
    page.goto(f"{live_server.url}/reports/")
    page.select_option("#id_kind", "record_of_transfers")
    # The DPO's own regions are offered, and only those.
    offered = page.locator("input[name=regions]").evaluate_all("els => els.length")
    assert offered == 2
    page.click("[data-testid=report-form] button[type=submit]")

    page.wait_for_selector("tr[data-report], ul.messages li.error")
    assert page.locator("tr[data-report]").count() == 1, page.locator("main").inner_text()
    row = page.locator("tr[data-report]").first
    seen = set()
    deadline = time.monotonic() + 240
    while row.get_attribute("data-status") not in ("done", "failed"):
        assert time.monotonic() < deadline, worker.read_text()[-3000:]
        percent = page.locator("[data-testid=report-percent]")
        if percent.count():
            try:  # HTMX may swap the row between the count and the read
                seen.add(int(percent.first.inner_text(timeout=500).rstrip("%")))
            except PlaywrightTimeout:
                pass
        page.wait_for_timeout(150)
    assert row.get_attribute("data-status") == "done", worker.read_text()[-3000:]
    # HTMX polled the task's real progress: at least one value strictly between 0 and 100.
    assert any(0 < value < 100 for value in seen), seen

    report = Report.objects.get()
    with page.expect_download() as download_info:
        row.locator("[data-testid=report-download]").click()
    target = tmp_path / "downloaded.pdf"
    download_info.value.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    assert hashlib.sha256(data).hexdigest() == report.sha256
    assert report.sha256[:16] in row.inner_text()
    assert report.requested_by.username == "dpo-eu"
    assert {r.slug for r in report.regions.all()} == {"eu-central", "eu-west"}
