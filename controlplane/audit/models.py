"""Append-only, hash-chained audit events.

Each event's hash is an HMAC (with a key the database does not hold, ``keys.py``) over the
previous event's hash and the event's canonical content, so altering or removing any row
breaks every link after it, and nobody without the key can forge new links. PostgreSQL itself
refuses UPDATE and DELETE on the table (migration 0005); the newest events are anchored outside
the database by the nightly checkpoint (``checkpoint.py``).
"""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from controlplane.audit.keys import UnknownChainKey, link


class AuditEventIsImmutable(Exception):
    """Raised when code tries to change or remove a recorded audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditEventIsImmutable("Audit events cannot be updated.")

    def delete(self):
        raise AuditEventIsImmutable("Audit events cannot be deleted.")

    _raw_delete = delete


class ActorKind(models.TextChoices):
    USER = "user", "User"
    AGENT = "agent", "Agent"
    SYSTEM = "system", "System"


GENESIS_HASH = "0" * 64


class AuditEvent(models.Model):
    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True, editable=False)
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices, editable=False)
    actor_id = models.CharField(max_length=64, editable=False)
    actor_label = models.CharField(max_length=150, db_index=True, editable=False)
    action = models.CharField(max_length=80, db_index=True, editable=False)
    object_type = models.CharField(max_length=80, blank=True, editable=False)
    object_id = models.CharField(max_length=64, blank=True, editable=False)
    object_repr = models.CharField(max_length=200, blank=True, editable=False)
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder, editable=False)
    # The slug of the region the event belongs to ("" for region-less events: mechanisms,
    # parties, people, reference data). Hashed when set, so scoping cannot be altered silently.
    region = models.CharField(max_length=50, blank=True, db_index=True, editable=False)
    # The fingerprint of the key that signed the link ("": written before the chain was keyed,
    # a plain SHA-256 link). Hashed when set.
    key_id = models.CharField(max_length=16, blank=True, editable=False)
    previous_hash = models.CharField(max_length=64, unique=True, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"#{self.sequence} {self.action} by {self.actor_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditEventIsImmutable("Audit events cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEventIsImmutable("Audit events cannot be deleted.")

    def canonical_content(self) -> bytes:
        # "region" and "key_id" join the hashed content only when set, so events recorded before
        # the fields existed keep their hashes.
        extra = {"region": self.region} if self.region else {}
        if self.key_id:
            extra["key_id"] = self.key_id
        return canonical_event_bytes(
            **extra,
            sequence=self.sequence,
            occurred_at=self.occurred_at.isoformat(),
            actor_kind=self.actor_kind,
            actor_id=self.actor_id,
            actor_label=self.actor_label,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            object_repr=self.object_repr,
            data=self.data,
        )

    def compute_hash(self) -> str | None:
        """The hash this event must have; ``None`` when its key is not this installation's."""
        try:
            return link(self.key_id, self.previous_hash, self.canonical_content())
        except UnknownChainKey:
            return None


class AuditChainHead(models.Model):
    """One row that every writer locks, so concurrent appends form one chain."""

    last_sequence = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = "audit chain head"

    def __str__(self):
        return f"head at #{self.last_sequence}"


def canonical_event_bytes(**content) -> bytes:
    return json.dumps(
        content, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()

