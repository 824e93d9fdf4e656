"""Celery tasks: thin wrappers over the notification services."""

from celery import shared_task

from controlplane.notifications import services


@shared_task
def send_immediate():
    return services.send_immediate()


@shared_task
def send_digests():
    """Hourly (beat); each person gets at most one digest a day."""
    return services.send_digests()


@shared_task
def run_periodic_checks():
    """Every few minutes (beat): lasting conditions such as agents out of sync; also sweeps
    immediate mail that a dead worker left unsent."""
    found = services.run_periodic_checks()
    services.send_immediate()
    return found
