from dataclasses import dataclass
from datetime import time

from controlplane.audit.models import GENESIS_HASH, AuditEvent


@dataclass(frozen=True)
class ChainVerdict:
    intact: bool
    events_checked: int
    first_broken_sequence: int | None = None
    problem: str = ""


def verify_chain(*, batch_size: int = 2000) -> ChainVerdict:
    """Walk the whole chain in sequence order and report the first broken event."""
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    events = AuditEvent.objects.order_by("sequence").iterator(chunk_size=batch_size)
    for event in events:
        if event.sequence != expected_sequence:
            return ChainVerdict(
                False,
                checked,
                event.sequence,
                f"sequence jumps from {expected_sequence - 1} to {event.sequence} (an event is missing)",
            )
        if event.previous_hash != expected_previous:
            return ChainVerdict(
                False,
                checked,
                event.sequence,
                "previous hash does not match the hash of the event before it",
            )
        if event.compute_hash() != event.hash:
            return ChainVerdict(
                False,
                checked,
                event.sequence,
                "content does not match its hash (the event was altered)",
            )
        expected_previous = event.hash
        expected_sequence += 1
        checked += 1
    return ChainVerdict(True, checked)


def daily_run_due(action: str, *, now, not_before: time) -> bool:
    """Whether a once-a-day job is due: the clock has passed ``not_before`` (UTC) today and no
    ``action`` event for today is in the trail yet. Beat ticks such jobs every hour; a tick
    lost to an outage is caught up by the next one, and the rest do nothing."""
    if now.time() < not_before:
        return False
    return not AuditEvent.objects.filter(action=action, data__day=now.date().isoformat()).exists()
