from dataclasses import dataclass
from datetime import time

from controlplane.audit.checkpoint import Checkpoint
from controlplane.audit.keys import UNKEYED
from controlplane.audit.models import GENESIS_HASH, AuditChainHead, AuditEvent


@dataclass(frozen=True)
class ChainVerdict:
    intact: bool
    events_checked: int
    first_broken_sequence: int | None = None
    problem: str = ""
    head_sequence: int = 0  # the last event verified (0: none)
    head_hash: str = ""
    keyed_from: int | None = None  # the first keyed event
    unkeyed_events: int = 0  # events from before the chain was keyed (sealed by the next one)


def verify_chain(*, checkpoint: Checkpoint | None = None, batch_size: int = 2000) -> ChainVerdict:
    """Walk the whole chain in sequence order and report the first broken event.

    Each link must be the HMAC of its predecessor's hash and its own content under the key it
    names (plain SHA-256 only for events written before the chain was keyed, and never after a
    keyed one). The chain must reach the head row's sequence and hash (both committed with the
    newest event) and, given the last ``checkpoint`` (kept outside the database), still pass
    through the event it recorded: removing the newest events, or rewriting the trail with the
    key but not the checkpoint, is found here.
    """
    head = AuditChainHead.objects.filter(pk=1).values_list("last_sequence", "last_hash").first()
    head_sequence, head_hash = head or (0, GENESIS_HASH)
    expected_previous = GENESIS_HASH
    expected_sequence = 1
    checked = unkeyed = 0
    keyed_from = None
    last_hash = ""

    def broken(sequence, problem):
        return ChainVerdict(
            False,
            checked,
            sequence,
            problem,
            head_sequence=expected_sequence - 1,
            head_hash=last_hash,
            keyed_from=keyed_from,
            unkeyed_events=unkeyed,
        )

    events = AuditEvent.objects.order_by("sequence").iterator(chunk_size=batch_size)
    for event in events:
        if event.sequence != expected_sequence:
            return broken(
                event.sequence,
                f"sequence jumps from {expected_sequence - 1} to {event.sequence} (an event is missing)",
            )
        if event.previous_hash != expected_previous:
            return broken(
                event.sequence, "previous hash does not match the hash of the event before it"
            )
        if event.key_id == UNKEYED:
            after = keyed_from or (checkpoint.keyed_from if checkpoint else None)
            if after is not None and event.sequence >= after:
                return broken(
                    event.sequence,
                    f"an unkeyed event after the chain was keyed at #{after} (a forged link)",
                )
            unkeyed += 1
        elif keyed_from is None:
            keyed_from = event.sequence
        expected = event.compute_hash()
        if expected is None:
            return broken(
                event.sequence,
                f"it names key {event.key_id}, which this installation does not have "
                "(a forged link, or a retired key missing from AUDIT_CHAIN_RETIRED_KEYS)",
            )
        if expected != event.hash:
            return broken(
                event.sequence, "content does not match its hash (the event was altered)"
            )
        if checkpoint and event.sequence == checkpoint.sequence and event.hash != checkpoint.hash:
            return broken(
                event.sequence,
                f"the chain no longer passes through the checkpoint {checkpoint.describe()}: "
                "the trail was rewritten",
            )
        if event.sequence == head_sequence and event.hash != head_hash:
            return broken(event.sequence, "the chain head row records another hash for it")
        expected_previous = last_hash = event.hash
        expected_sequence += 1
        checked += 1
    if checked < head_sequence:
        return broken(
            None,
            f"the trail ends at #{checked} but the chain head records #{head_sequence}: "
            "the newest events were removed",
        )
    if checkpoint and checked < checkpoint.sequence:
        return broken(
            None,
            f"the trail ends at #{checked} but the checkpoint {checkpoint.describe()} recorded "
            f"#{checkpoint.sequence}: events were removed",
        )
    return ChainVerdict(
        True,
        checked,
        head_sequence=checked,
        head_hash=last_hash,
        keyed_from=keyed_from,
        unkeyed_events=unkeyed,
    )


def daily_run_due(action: str, *, now, not_before: time) -> bool:
    """Whether a once-a-day job is due: the clock has passed ``not_before`` (UTC) today and no
    ``action`` event for today is in the trail yet. Beat ticks such jobs every hour; a tick
    lost to an outage is caught up by the next one, and the rest do nothing."""
    if now.time() < not_before:
        return False
    return not AuditEvent.objects.filter(action=action, data__day=now.date().isoformat()).exists()
