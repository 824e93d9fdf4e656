"""Bundles (TUF targets), the TUF repository's metadata, the delivery outbox, push attempts."""

from django.db import models

from regions.models import Agent, Region


class ConfigBundle(models.Model):
    """One version of a region's desired state: the target of the region's TUF role.

    ``target`` holds the exact bytes served and hashed (canonical JSON of ``payload``); the
    region role's metadata lists their length and sha256. Append-only; versions only grow.
    """

    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="bundles")
    version = models.PositiveIntegerField()
    digest = models.CharField(max_length=80, help_text="sha256 of the target bytes.")
    content_digest = models.CharField(max_length=80)
    payload = models.JSONField()
    target = models.BinaryField(default=b"", help_text="The target file, byte for byte as signed.")
    role_version = models.PositiveIntegerField(
        default=0, help_text="Version of the region's TUF role that lists this target."
    )
    issued = models.DateTimeField()
    expires = models.DateTimeField(db_index=True)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    region_path = "region"

    class Meta:
        ordering = ["region__slug", "-version"]
        get_latest_by = "version"
        constraints = [
            models.UniqueConstraint(fields=["region", "version"], name="unique_bundle_version"),
        ]

    def __str__(self):
        return f"{self.region.slug} v{self.version}" if self.region_id else f"v{self.version}"


class TufRole(models.Model):
    """The head of one TUF role (root, targets, snapshot, timestamp, or a region's role)."""

    name = models.CharField(max_length=80, primary_key=True)
    version = models.PositiveIntegerField()
    expires = models.DateTimeField()
    keyids = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.name} v{self.version}"


class TufMetadata(models.Model):
    """Every version of every role's signed metadata, byte for byte as served. Append-only."""

    role = models.CharField(max_length=80)
    version = models.PositiveIntegerField()
    data = models.BinaryField()
    expires = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["role", "version"], name="unique_tuf_role_version"),
        ]

    def __str__(self):
        return f"{self.version}.{self.role}.json"


class Delivery(models.Model):
    """The outbox: one row per (bundle, agent with a callback URL), written with the bundle.

    The push task works from these rows, and the beat sweep re-queues any row still pending, so a
    worker or broker that is down at commit time loses nothing.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        REFUSED = "refused", "Refused by the agent"
        FAILED = "failed", "Gave up"
        SUPERSEDED = "superseded", "Superseded by a newer bundle"

    bundle = models.ForeignKey(ConfigBundle, on_delete=models.CASCADE, related_name="deliveries")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    region_path = "agent__region"

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["bundle", "agent"], name="unique_delivery"),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self):
        return f"{self.bundle} -> {self.agent.name}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    region_path = "delivery__agent__region"

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.delivery} #{self.number}"
