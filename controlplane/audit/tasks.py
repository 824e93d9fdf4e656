from celery import shared_task

from controlplane.audit.services import nightly_verification


@shared_task(name="controlplane.audit.tasks.verify_chain")
def verify_chain() -> bool | None:
    """Hourly (beat); verifies once a day, so a tick missed during an outage is caught up."""
    verdict = nightly_verification()  # logs the head it verified, or where the chain broke
    return None if verdict is None else verdict.intact
