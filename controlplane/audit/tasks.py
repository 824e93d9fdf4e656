import logging

from celery import shared_task

from controlplane.audit.selectors import verify_chain as verify_audit_chain

logger = logging.getLogger(__name__)


@shared_task(name="controlplane.audit.tasks.verify_chain")
def verify_chain() -> bool:
    verdict = verify_audit_chain()
    if not verdict.intact:
        logger.error(
            "Audit chain broken at #%s: %s", verdict.first_broken_sequence, verdict.problem
        )
    return verdict.intact
