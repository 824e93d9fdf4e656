import logging

from celery import shared_task

from controlplane.audit.services import nightly_verification

logger = logging.getLogger(__name__)


@shared_task(name="controlplane.audit.tasks.verify_chain")
def verify_chain() -> bool | None:
    """Hourly (beat); verifies once a day, so a tick missed during an outage is caught up."""
    verdict = nightly_verification()
    if verdict is None:
        return None
    if not verdict.intact:
        logger.error(
            "Audit chain broken at #%s: %s", verdict.first_broken_sequence, verdict.problem
        )
    return verdict.intact
