"""Celery tasks: thin wrappers over services."""

from celery import shared_task

from controlplane.transfers import services


@shared_task
def check_expiries():
    """Hourly (beat); runs the daily check once a day, so a tick missed during an outage is
    caught up: end expired mechanisms, suspend what lost its basis, warn 30 days ahead."""
    return services.daily_check()
