"""Compliance reports: what was asked for (kind, period, regions), by whom, and the PDF it became.

A report's scope is a set of regions. A person sees a report only when every region of its
scope is one they may view (``restrict()`` with ``region_path_all``), so a DPO of one region
never reads a report that covers another.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from regions.models import Region


class ReportKind(models.TextChoices):
    RECORD_OF_TRANSFERS = "record_of_transfers", "Record of transfers (GDPR Art. 30)"
    MECHANISM_INVENTORY = "mechanism_inventory", "Mechanism inventory"
    REGIONAL_STATUS = "regional_status", "Regional compliance status"
    AUDIT_EXTRACT = "audit_extract", "Audit extract"


class ReportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Report(models.Model):
    Kind = ReportKind
    Status = ReportStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=24, choices=ReportKind.choices)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day included.")
    regions = models.ManyToManyField(Region, related_name="+")
    scope_label = models.CharField(
        max_length=300, help_text="The scope in words, frozen when the report was asked for."
    )
    status = models.CharField(
        max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    stage = models.CharField(max_length=120, blank=True)
    error = models.TextField(blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the scheduled monthly report.",
    )
    requested_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    file = models.CharField(max_length=300, blank=True, help_text="Path under REPORTS_DIR.")
    size = models.PositiveBigIntegerField(null=True, blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    data_digest = models.CharField(
        max_length=64, blank=True, help_text="sha256 over the rows the report was built from."
    )

    # restrict(): a report is visible when EVERY region of its scope is.
    region_path = "regions"
    region_path_all = True

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.period_start:%Y-%m-%d}..{self.period_end:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("reports:detail", args=[self.pk])

    @property
    def short_id(self) -> str:
        return str(self.pk).split("-")[0].upper()

    @property
    def is_finished(self) -> bool:
        return self.status in (ReportStatus.DONE, ReportStatus.FAILED)

    @property
    def download_name(self) -> str:
        return f"{self.kind.replace('_', '-')}-{self.period_start:%Y%m%d}-{self.period_end:%Y%m%d}-{self.short_id}.pdf"

    def clean(self):
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": "The period must end on or after its start."})
