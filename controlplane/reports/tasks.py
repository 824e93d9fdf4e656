"""Celery tasks: thin wrappers over the report services."""

from celery import shared_task

from controlplane.reports import services


@shared_task(name="controlplane.reports.tasks.generate_report", acks_late=True)
def generate_report(report_id: str) -> str:
    return services.report_generate(report_id=report_id).status


@shared_task(name="controlplane.reports.tasks.monthly_record_of_transfers")
def monthly_record_of_transfers() -> str | None:
    report = services.monthly_record_of_transfers()
    return str(report.pk) if report else None
