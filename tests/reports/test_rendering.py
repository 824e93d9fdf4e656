"""The renderer's guarantees that do not need the demo estate: fonts, failure, the timeline."""

import os
import signal
import sys
import time
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


# --- The render workers -------------------------------------------------------------------------


def _sections(n_chunks: int, rows: int = 30):
    from controlplane.reports.rendering import Chunk, Section

    def chunks():
        for c in range(n_chunks):
            body = "".join(f"<p>chunk {c} line {i}</p>" for i in range(rows))
            yield Chunk(f"<h2>Part {c}</h2>{body}", weight=1)

    return [Section("body", "Body", chunks, weight=n_chunks)]


def _render(tmp_path, **kwargs):
    from controlplane.reports import rendering

    progress = []
    result = rendering.render_report(
        title="Test",
        header="Test report · everywhere",
        footer="Report T",
        front=lambda toc: (
            "<div class='cover'><h1>Test</h1></div><h2>Contents</h2>"
            + "".join(f"<p>{e.title} {e.page}</p>" for e in toc)
        ),
        sections=_sections(kwargs.pop("chunks", 5)),
        out=tmp_path / "out.pdf",
        progress=lambda percent, stage: progress.append(percent),
        **kwargs,
    )
    return result, progress


@pytest.mark.parametrize("workers", [0, 2])
def test_every_page_is_numbered_across_frame_parts_and_workers(
    settings, tmp_path, monkeypatch, workers
):
    """The frame renders in parts with the numbers written in: with parts of 3 pages, page 7
    still says "page 7 of N" and carries the header (a part that restarted the count, or a
    frame page stamped on the wrong content page, shows here)."""
    from controlplane.reports import rendering
    from tests.reports.conftest import pdf_text

    settings.REPORT_RENDER_WORKERS = workers
    monkeypatch.setattr(rendering, "FRAME_PAGES_PER_PART", 3)
    result, progress = _render(tmp_path, chunks=6)
    pages, reader = pdf_text(tmp_path / "out.pdf")
    assert result.pages == len(reader.pages) >= 8
    assert "page 1 of" not in pages[0]  # the cover has no frame
    for number, text in enumerate(pages[1:], start=2):
        assert f"page {number} of {result.pages}" in text, (number, text[-120:])
        assert "Test report · everywhere" in text
    # Each chunk starts on its own page, in order, with the header of its section.
    starts = [next(i for i, t in enumerate(pages) if f"Part {c} " in t) for c in range(6)]
    assert starts == sorted(starts) and all("Body" in pages[i] for i in starts)
    assert progress[-1] == 100 and progress == sorted(progress)


def test_a_failing_document_fails_the_render_with_its_reason_and_never_hangs(tmp_path, settings):
    from controlplane.reports import rendering

    settings.REPORT_RENDER_WORKERS = 2
    with rendering.RenderPool(
        sheets={"report": "p { color: red }"},
        base_url=str(settings.BASE_DIR),
        workers=2,
        tmpdir=tmp_path,
    ) as pool:
        good = pool.submit("<p>fine</p>", sheet="report", title="t", pdf=tmp_path / "a.pdf")
        bad = pool.submit("<p>x</p>", sheet="no-such-sheet", title="t", pdf=tmp_path / "b.pdf")
        assert pool.pages(good) == 1
        with pytest.raises(rendering.RenderError, match="no-such-sheet"):
            pool.pages(bad)
        # A worker that dies fails what it was given and everything after, at once.
        for process in pool._processes:
            process.kill()
        late = pool.submit("<p>late</p>", sheet="report", title="t", pdf=tmp_path / "c.pdf")
        with pytest.raises(rendering.RenderError, match="render worker"):
            pool.pages(late)
        with pytest.raises(rendering.RenderError):
            pool.submit("<p>later</p>", sheet="report", title="t", pdf=tmp_path / "d.pdf")


def test_a_hung_worker_fails_the_render_at_the_timeout_and_is_stopped(tmp_path, settings):
    """A worker that never answers (stopped: it cannot even notice) fails its document once
    REPORT_RENDER_TIMEOUT_SECONDS pass, and every worker of the pool is killed."""
    from controlplane.reports import rendering

    settings.REPORT_RENDER_TIMEOUT_SECONDS = 1
    with pytest.raises(rendering.RenderError, match="REPORT_RENDER_TIMEOUT_SECONDS"):  # noqa: PT012
        with rendering.RenderPool(
            sheets={"report": "p { color: red }"},
            base_url=str(settings.BASE_DIR),
            workers=2,
            tmpdir=tmp_path,
        ) as pool:
            good = pool.submit("<p>fine</p>", sheet="report", title="t", pdf=tmp_path / "a.pdf")
            assert pool.pages(good) == 1
            for process in pool._processes:
                os.kill(process.pid, signal.SIGSTOP)
            started = time.monotonic()
            hung = pool.submit("<p>x</p>", sheet="report", title="t", pdf=tmp_path / "b.pdf")
            try:
                pool.pages(hung)
            finally:
                assert time.monotonic() - started < 10
                # The pool was terminated: every worker was killed (a stopped one never exits
                # by itself), the idle one too.
                for process in pool._processes:
                    assert process.wait(timeout=5) == -signal.SIGKILL
    with pytest.raises(rendering.RenderError, match="within 1 s"):
        pool.submit("<p>later</p>", sheet="report", title="t", pdf=tmp_path / "c.pdf")


@pytest.mark.django_db
def test_a_report_whose_worker_hangs_fails_at_the_timeout_with_nothing_written(
    estate, settings, tmp_path, monkeypatch
):
    """The worker renders its first document, then hangs in the next: at the timeout the report
    is failed (audited, its reason names the setting), the workers are gone, and no file or
    temporary chunk is left."""
    from controlplane.reports import rendering
    from controlplane.reports.models import ReportStatus

    pids = tmp_path / "pids"
    monkeypatch.setenv("HANGING_WORKER_PIDS", str(pids))
    monkeypatch.setattr(
        rendering.RenderPool, "command", (sys.executable, "-m", "tests.reports.hanging_pdfworker")
    )
    settings.REPORT_RENDER_WORKERS = 1
    settings.REPORT_RENDER_TIMEOUT_SECONDS = 2
    settings.REPORT_CHUNK_ROWS = 10
    today = timezone.localdate()
    report = services.report_request(
        kind="audit_extract",
        period_start=today - timedelta(days=30),
        period_end=today,
        regions=list(Region.objects.all()),
        by=estate.admin,
    )
    started = time.monotonic()
    report = services.report_generate(report_id=report.pk)

    assert time.monotonic() - started < 60
    assert report.status == ReportStatus.FAILED
    assert "did not finish" in report.error and "within 2 s" in report.error, report.error
    assert "REPORT_RENDER_TIMEOUT_SECONDS" in report.error
    assert report.file == "" and report.sha256 == ""
    assert not [p for p in settings.REPORTS_DIR.rglob("*") if p.is_file()]
    assert not list(settings.REPORTS_DIR.rglob(".render-*"))
    event = AuditEvent.objects.get(action="report.failed", object_id=str(report.pk))
    assert "REPORT_RENDER_TIMEOUT_SECONDS" in event.data["error"]
    for pid in map(int, pids.read_text().split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
