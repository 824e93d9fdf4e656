"""Celery beat work: roll-ups every minute, retention daily. Thin wrappers over services."""

from celery import shared_task

from controlplane.metrics import services


@shared_task(name="controlplane.metrics.tasks.roll_up")
def roll_up() -> dict:
    return services.roll_up()


@shared_task(name="controlplane.metrics.tasks.apply_retention")
def apply_retention() -> dict:
    return services.apply_retention()
