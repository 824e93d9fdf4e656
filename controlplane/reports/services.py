"""Every write about reports: ask for one, generate it (the Celery task's body), delete it.

Each write checks who may do it, saves with ``full_clean()``, writes its audit event in the same
transaction, and queues Celery work with ``transaction.on_commit``.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from controlplane.audit.actors import Actor
from controlplane.audit.services import record_event
from controlplane.errors import DomainError, NotAllowed
from controlplane.permissions import Role, ensure_may_change, has_role, regions_for
from controlplane.reports import content, rendering
from controlplane.reports.models import Report, ReportKind, ReportStatus
from regions.models import Region

logger = logging.getLogger(__name__)
WORKER = Actor.system("reports")
MAX_PERIOD_DAYS = 3 * 366


def event_region(report: Report) -> str:
    """The region an event about ``report`` belongs to (it scopes who reads the event): the
    scope's region when there is one; region-less (auditors and administrators) otherwise, so
    that no DPO learns of a report on a region they may not see."""
    slugs = sorted(r.slug for r in report.regions.all())
    return slugs[0] if len(slugs) == 1 else ""


def reports_dir() -> Path:
    return Path(getattr(settings, "REPORTS_DIR", Path(settings.VAR_DIR) / "reports"))


def file_path(report: Report) -> Path:
    return reports_dir() / report.file


def may_request(user) -> bool:
    """DPOs (for their regions) and administrators ask for reports; auditors only read them."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or (has_role(user, Role.DPO) and not has_role(user, Role.AUDITOR))


def scope_label(regions) -> str:
    slugs = sorted(r.slug for r in regions)
    if set(slugs) == set(Region.objects.values_list("slug", flat=True)):
        return "all regions"
    return ", ".join(slugs)


def report_request(*, kind: str, period_start: date, period_end: date, regions, by) -> Report:
    """Ask for a report; a Celery worker renders it after the commit."""
    ensure_may_change(by)
    if not may_request(by):
        raise NotAllowed("Only DPOs and administrators ask for reports.")
    regions = list(regions)
    if not regions:
        raise DomainError("Choose at least one region.", code="regions")
    allowed = set(regions_for(by, "view").values_list("pk", flat=True))
    outside = sorted(r.slug for r in regions if r.pk not in allowed)
    if outside:
        raise NotAllowed(f"You may not report on: {', '.join(outside)}.")
    if period_end and period_start and (period_end - period_start).days > MAX_PERIOD_DAYS:
        raise DomainError("A report covers at most three years.", code="period_end")
    return _create(
        kind=kind, period_start=period_start, period_end=period_end, regions=regions, by=by
    )


def _create(*, kind, period_start, period_end, regions, by) -> Report:
    report = Report(
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        scope_label=scope_label(regions),
        requested_by=by if by is not None and not isinstance(by, Actor) else None,
    )
    report.full_clean(exclude=["regions"])
    with transaction.atomic():
        report.save()
        report.regions.set(regions)
        record_event(
            actor=by,
            action="report.requested",
            obj=report,
            region=event_region(report),
            data={
                "kind": kind,
                "period": [period_start, period_end],
                "regions": sorted(r.slug for r in regions),
            },
        )
        transaction.on_commit(lambda: _queue(report.pk))
    return report


def _queue(report_id) -> None:
    from controlplane.reports.tasks import generate_report

    generate_report.delay(str(report_id))


def monthly_record_of_transfers(*, today: date | None = None) -> Report | None:
    """The record of transfers for last month, over every region (Celery beat, monthly)."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - timedelta(days=1)
    start = end.replace(day=1)
    regions = list(Region.objects.all())
    if not regions:
        return None
    existing = (
        Report.objects.filter(
            kind=ReportKind.RECORD_OF_TRANSFERS,
            period_start=start,
            period_end=end,
            requested_by__isnull=True,
        )
        .exclude(status=ReportStatus.FAILED)
        .first()
    )
    if existing:  # a repeated beat tick, or a catch-up run, makes no second copy
        return existing
    return _create(
        kind=ReportKind.RECORD_OF_TRANSFERS,
        period_start=start,
        period_end=end,
        regions=regions,
        by=Actor.system("beat"),
    )


def _progress(report_id):
    last = {"percent": -1}

    def update(percent: int, stage: str) -> None:
        if percent != last["percent"]:
            last["percent"] = percent
            Report.objects.filter(pk=report_id).update(progress=percent, stage=stage[:120])

    return update


def report_generate(*, report_id) -> Report:
    """Render the report's PDF, store it with its sha256, and audit the result."""
    report = Report.objects.select_related("requested_by").get(pk=report_id)
    if report.status == ReportStatus.DONE:
        return report
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.RUNNING,
        started_at=timezone.now(),
        progress=0,
        stage="Reading",
        error="",
    )
    relative = Path(f"{report.requested_at:%Y/%m}") / f"{report.pk}.pdf"
    target = reports_dir() / relative
    try:
        plan = content.build(report)
        result = rendering.render_report(
            title=plan.title,
            header=plan.header,
            footer=plan.footer,
            front=plan.front,
            sections=plan.sections,
            out=target,
            progress=_progress(report.pk),
        )
    except Exception as error:  # noqa: BLE001 - any failure is recorded on the report
        logger.exception("Report %s failed", report.pk)
        with transaction.atomic():
            Report.objects.filter(pk=report.pk).update(
                status=ReportStatus.FAILED, error=str(error)[:2000], finished_at=timezone.now()
            )
            record_event(
                actor=WORKER,
                action="report.failed",
                obj=report,
                data={"error": str(error)[:500]},
                region=event_region(report),
            )
        target.unlink(missing_ok=True)
        report.refresh_from_db()
        return report
    report.refresh_from_db()
    report.status = ReportStatus.DONE
    report.progress = 100
    report.stage = "Done"
    report.file = str(relative)
    report.size = result.size
    report.pages = result.pages
    report.sha256 = result.sha256
    report.data_digest = plan.digest.hexdigest()
    report.finished_at = timezone.now()
    report.full_clean(exclude=["regions"])
    with transaction.atomic():
        report.save()
        record_event(
            actor=WORKER,
            action="report.generated",
            obj=report,
            region=event_region(report),
            data={
                "sha256": report.sha256,
                "size": report.size,
                "pages": report.pages,
                "data_digest": report.data_digest,
                "kind": report.kind,
                "period": [report.period_start, report.period_end],
                "scope": report.scope_label,
                "requested_by": report.requested_by.get_username()
                if report.requested_by
                else "beat",
            },
        )
    return report


def may_delete(user, report: Report) -> bool:
    if not may_request(user):
        return False
    return user.is_superuser or report.requested_by_id == user.pk


def report_delete(*, report: Report, by) -> None:
    """Remove a report and its file; the audit trail keeps what it was (kind, scope, sha256)."""
    ensure_may_change(by)
    if not may_delete(by, report):
        raise NotAllowed("Only the person who asked for a report, or an administrator, deletes it.")
    path = file_path(report) if report.file else None
    with transaction.atomic():
        record_event(
            actor=by,
            action="report.deleted",
            obj=report,
            region=event_region(report),
            data={
                "kind": report.kind,
                "period": [report.period_start, report.period_end],
                "scope": report.scope_label,
                "sha256": report.sha256,
                "status": report.status,
            },
        )
        report.delete()
        if path is not None:
            transaction.on_commit(lambda: path.unlink(missing_ok=True))
