"""The one way to write to the audit trail."""

import json
import logging
from datetime import time

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from controlplane.audit.actors import Actor, actor_for
from controlplane.audit.keys import current_key
from controlplane.audit.models import AuditChainHead, AuditEvent
from controlplane.audit.signals import event_recorded

log = logging.getLogger(__name__)


def _describe(obj) -> tuple[str, str, str]:
    if obj is None:
        return "", "", ""
    meta = obj._meta
    return f"{meta.app_label}.{meta.model_name}", str(obj.pk), str(obj)[:200]


def region_of(obj) -> str:
    """The slug of the region an object belongs to, found the way the permission choke point
    finds it: its model's ``region_path`` (``None``: the object is a region). Objects without
    one (mechanisms, parties, people, reference data) belong to no region: ``""``."""
    if obj is None or not hasattr(type(obj), "region_path"):
        return ""
    target = obj
    if type(obj).region_path is not None:
        for step in type(obj).region_path.split("__"):
            target = getattr(target, step, None)
            if target is None:
                return ""
    return getattr(target, "slug", "") or ""


def record_event(
    *, actor, action: str, obj=None, data: dict | None = None, region: str | None = None
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    The chain head row is bumped with an UPDATE first: that takes the row lock on
    PostgreSQL (and the write lock on SQLite) before the previous hash is read,
    so two concurrent writers can never link to the same predecessor.

    The event's region (hashed with it) scopes who may read it: ``region`` if given, else the
    object's region (``region_of``).
    """
    who: Actor = actor_for(actor)
    object_type, object_id, object_repr = _describe(obj)
    region = region_of(obj) if region is None else region
    # Store exactly what was hashed: a JSON round trip normalises dates, decimals, tuples.
    normalised = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    with transaction.atomic():
        updated = AuditChainHead.objects.filter(pk=1).update(last_sequence=F("last_sequence") + 1)
        if not updated:
            AuditChainHead.objects.get_or_create(pk=1)
            AuditChainHead.objects.filter(pk=1).update(last_sequence=F("last_sequence") + 1)
        head = AuditChainHead.objects.get(pk=1)
        event = AuditEvent(
            sequence=head.last_sequence,
            occurred_at=timezone.now(),
            actor_kind=who.kind,
            actor_id=who.identifier[:64],
            actor_label=who.label[:150],
            action=action,
            object_type=object_type,
            object_id=object_id,
            object_repr=object_repr,
            data=normalised,
            region=region[:50],
            key_id=current_key().key_id,
            previous_hash=head.last_hash,
        )
        event.hash = event.compute_hash()
        event.save()
        AuditChainHead.objects.filter(pk=1).update(last_hash=event.hash)
        event_recorded.send(sender=AuditEvent, event=event)
    return event


def record_events(*, actor, events: list[dict]) -> list[AuditEvent]:
    """Append several events by one actor in one go: ``events`` is a list of
    ``{"action", "obj", "data", "region"}`` (``obj``, ``data`` and ``region`` optional).

    The same chain and the same guarantees as ``record_event`` (one head lock taken first, each
    event linked to the one before), for the price of one head update, one bulk INSERT and one
    final head update instead of four queries per event: ending a mechanism that 10,000
    transfers rely on records 10,000 suspensions.
    """
    if not events:
        return []
    who: Actor = actor_for(actor)
    count = len(events)
    with transaction.atomic():
        bump = F("last_sequence") + count
        if not AuditChainHead.objects.filter(pk=1).update(last_sequence=bump):
            AuditChainHead.objects.get_or_create(pk=1)
            AuditChainHead.objects.filter(pk=1).update(last_sequence=bump)
        head = AuditChainHead.objects.get(pk=1)
        previous = head.last_hash
        first = head.last_sequence - count + 1
        now = timezone.now()
        key_id = current_key().key_id
        built = []
        for offset, item in enumerate(events):
            obj = item.get("obj")
            object_type, object_id, object_repr = _describe(obj)
            region = item.get("region")
            region = region_of(obj) if region is None else region
            event = AuditEvent(
                sequence=first + offset,
                occurred_at=now,
                actor_kind=who.kind,
                actor_id=who.identifier[:64],
                actor_label=who.label[:150],
                action=item["action"],
                object_type=object_type,
                object_id=object_id,
                object_repr=object_repr,
                data=json.loads(json.dumps(item.get("data") or {}, cls=DjangoJSONEncoder)),
                region=region[:50],
                key_id=key_id,
                previous_hash=previous,
            )
            event.hash = event.compute_hash()
            previous = event.hash
            built.append(event)
        AuditEvent.objects.bulk_create(built, batch_size=1000)
        AuditChainHead.objects.filter(pk=1).update(last_hash=previous)
        for event in built:
            event_recorded.send(sender=AuditEvent, event=event)
    return built


NIGHTLY_VERIFICATION = "audit.chain_verified"
NIGHTLY_VERIFICATION_NOT_BEFORE = time(3, 0)


def verify_trail(*, advance_checkpoint: bool, now=None):
    """Verify the chain against the last checkpoint (``checkpoint.py``) and log the head it
    reached; when intact and ``advance_checkpoint``, write that head as the new checkpoint.
    Returns ``(verdict, previous checkpoint or None)``. A checkpoint that cannot be trusted is
    a broken verdict, and is left in place as evidence."""
    from controlplane.audit.checkpoint import (
        Checkpoint,
        CheckpointInvalid,
        read_checkpoint,
        write_checkpoint,
    )
    from controlplane.audit.selectors import ChainVerdict, verify_chain

    now = now or timezone.now()
    try:
        previous = read_checkpoint()
    except CheckpointInvalid as error:
        verdict = ChainVerdict(False, 0, None, f"the checkpoint cannot be trusted: {error}")
        log.error("Audit chain not verified: %s", verdict.problem)
        return verdict, None
    verdict = verify_chain(checkpoint=previous)
    if not verdict.intact:
        log.error(
            "Audit chain broken at #%s: %s (%s events before it intact)",
            verdict.first_broken_sequence,
            verdict.problem,
            verdict.events_checked,
        )
        return verdict, previous
    # The log is the second anchor outside the database: ship it somewhere the database's
    # administrators cannot write.
    log.info(
        "Audit chain intact: %s events, head #%s %s",
        verdict.events_checked,
        verdict.head_sequence,
        verdict.head_hash or "(empty)",
    )
    if advance_checkpoint:
        write_checkpoint(
            Checkpoint(
                sequence=verdict.head_sequence,
                hash=verdict.head_hash,
                keyed_from=verdict.keyed_from,
                written_at=now.isoformat(),
            )
        )
    return verdict, previous


def nightly_verification(*, now=None):
    """Verify the whole chain once a day (the first hourly tick from 03:00 UTC), advance the
    checkpoint, and record the verdict in the trail, which is also how the next ticks know it
    ran. Returns the verdict, or ``None`` when it is not due."""
    from controlplane.audit.selectors import daily_run_due

    now = now or timezone.now()
    if not daily_run_due(NIGHTLY_VERIFICATION, now=now, not_before=NIGHTLY_VERIFICATION_NOT_BEFORE):
        return None
    verdict, previous = verify_trail(advance_checkpoint=True, now=now)
    record_event(
        actor=Actor.system("audit"),
        action=NIGHTLY_VERIFICATION,
        data={
            "day": now.date(),
            "intact": verdict.intact,
            "events_checked": verdict.events_checked,
            "first_broken_sequence": verdict.first_broken_sequence,
            "problem": verdict.problem,
            "head_sequence": verdict.head_sequence,
            "head_hash": verdict.head_hash,
            "checkpoint_before": previous.sequence if previous else None,
        },
    )
    return verdict
