"""Regional agents as identities: one bearer token each (stored hashed), one region each.

Imported by ``regions.models`` so Django sees the model in the ``regions`` app. The writes
(enroll, revoke, rotate, status reports) are services in ``controlplane.distribution.services``.
"""

import hashlib
import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

TOKEN_PREFIX = "sva_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are 256 random bits, so one SHA-256 is enough (no password stretching needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Drift(models.TextChoices):
    SYNCED = "synced", "Synced"
    OUT_OF_SYNC = "out_of_sync", "Out of sync"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Unknown"


class Agent(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    region = models.ForeignKey("regions.Region", on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_hint = models.CharField(
        max_length=12, editable=False, help_text="The token's first characters, to recognise it."
    )
    callback_url = models.URLField(
        max_length=400,
        blank=True,
        help_text="Where the refresh signal goes (POST {url}/refresh); it carries nothing trusted.",
    )
    poll_interval = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(86400)],
        help_text="Seconds between polls; no heartbeat for three intervals means unknown.",
    )
    last_seen = models.DateTimeField(null=True, blank=True, db_index=True)
    applied_version = models.PositiveIntegerField(null=True, blank=True)
    applied_digest = models.CharField(max_length=80, blank=True)
    software_version = models.CharField(max_length=40, blank=True)
    last_error_code = models.CharField(max_length=40, blank=True)
    last_error = models.TextField(blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    last_refresh_at = models.DateTimeField(
        null=True, blank=True, help_text="The agent's last successful TUF refresh, as it reported."
    )
    trust_expires = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="When the agent's trusted metadata expires: after it, it routes nothing.",
    )
    drift = models.CharField(
        max_length=12, choices=Drift.choices, default=Drift.UNKNOWN, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)

    region_path = "region"

    class Meta:
        app_label = "regions"
        ordering = ["region__slug", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="unique_agent_name_per_region")
        ]

    def __str__(self):
        return f"{self.region.slug}/{self.name}" if self.region_id else self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
