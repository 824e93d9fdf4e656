"""Celery tasks: thin wrappers over services."""

from celery import shared_task

from controlplane.transfers import services


@shared_task
def check_expiries():
    """Daily (beat): end expired mechanisms, suspend what lost its basis, warn 30 days ahead."""
    return services.check_expiries()
