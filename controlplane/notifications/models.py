from django.conf import settings
from django.db import models
from django.urls import reverse

from controlplane.notifications.registry import KINDS


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", "Each notice at once"
    DAILY = "daily", "One daily digest"
    OFF = "off", "No e-mail (inbox only)"


class Notice(models.Model):
    """One thing one person should know, in their inbox (and, by their choice, by e-mail)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices"
    )
    kind = models.CharField(max_length=30, choices=list(KINDS.items()), db_index=True)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    region = models.CharField(max_length=50, blank=True, db_index=True)
    key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="one_notice_per_key")
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return self.url or reverse("notifications:inbox")


class Preference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_preference"
    )
    email = models.CharField(max_length=10, choices=EmailMode.choices, default=EmailMode.DAILY)
    muted = models.JSONField(default=list, blank=True, help_text="Notice kinds not wanted.")
    last_digest_on = models.DateField(null=True, blank=True)

    def __str__(self):
        return f"notice preference of {self.user}"


class OngoingCondition(models.Model):
    """A lasting condition a periodic hook watches (an agent out of sync since ...), so the
    notice goes out once it has lasted the set time, and once only."""

    key = models.CharField(max_length=200, unique=True)
    since = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.key} since {self.since:%Y-%m-%d %H:%M %Z}"
