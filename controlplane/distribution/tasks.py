"""Celery tasks: thin wrappers over the services."""

import logging

from celery import shared_task

from controlplane.distribution import services

log = logging.getLogger(__name__)


@shared_task(bind=True, name="controlplane.distribution.tasks.push_delivery", max_retries=None)
def push_delivery(self, delivery_id: int) -> str:
    """Push one bundle to one agent; retries with exponential backoff until the row says stop."""
    outcome = services.deliver(delivery_id)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.state


@shared_task(name="controlplane.distribution.tasks.sweep_deliveries")
def sweep_deliveries() -> int:
    """Re-queue outbox rows that are due: nothing is lost when a worker or broker was down."""
    due = services.due_deliveries()
    services.queue_deliveries(due)
    return len(due)


@shared_task(name="controlplane.distribution.tasks.ensure_bundles_current")
def ensure_bundles_current() -> int:
    """Republish regions whose state changed unnoticed; re-sign bundles ahead of expiry."""
    return len(services.ensure_current())


@shared_task(name="controlplane.distribution.tasks.refresh_drift")
def refresh_drift() -> dict:
    return services.refresh_drift()
