"""The model registry: models, their versions with lineage, and per-region deployment approvals.

A version is immutable once any region approved it (``frozen_at`` is set by the approval):
``ModelVersion.save()``, the queryset's ``update()`` and the many-to-many guards in
``signals.py`` refuse to change a frozen version. A change is a new version. Adding a copy of
the artifact in another region is not a change: the digest pins the content.
"""

import math
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from controlplane.modelregistry import policy as p
from regions.models import DataCategory, Jurisdiction, Region

DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
digest_validator = RegexValidator(
    DIGEST_PATTERN, "An artifact digest is 'sha256:' followed by 64 lower-case hex characters."
)
name_validator = RegexValidator(
    r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$", "Lower-case letters and digits, joined by - or _."
)
version_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,39}$",
    "Letters, digits and . _ + - (e.g. 1.4.0 or 2025-06-rc1), starting with a letter or digit.",
)


RESERVED_NAMES = frozenset({"new", "deployments"})


class VersionIsImmutable(ValidationError):
    """Raised when code tries to change a version that a region has approved."""


class TrainingMode(models.TextChoices):
    REGIONAL = p.REGIONAL, "Regional (one region's local data)"
    FEDERATED = p.FEDERATED, "Federated (parameters aggregated across regions)"
    TRANSFER = p.TRANSFER, "Transfer learning (fine-tuned from a base version)"
    SYNTHETIC = p.SYNTHETIC, "Synthetic data"


class MLModel(models.Model):
    name = models.CharField(max_length=80, unique=True, validators=[name_validator])
    purpose = models.TextField()
    owner_team = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "ML model"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("modelregistry:model", args=[self.name])

    def clean(self):
        if self.name in RESERVED_NAMES:
            raise ValidationError({"name": f"{self.name!r} is reserved by the registry's pages."})


def finite_number(value) -> bool:
    """A JSON number PostgreSQL's jsonb stores: not a bool, not NaN, not infinite, not huge."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond any float
        return False


class ModelVersionQuerySet(models.QuerySet):
    def with_lineage(self):
        return self.select_related("model", "base_version__model").prefetch_related(
            "training_jurisdictions", "data_categories", "participating_regions"
        )

    def update(self, **kwargs):
        if set(kwargs) - {"frozen_at"} and self.filter(frozen_at__isnull=False).exists():
            raise VersionIsImmutable(
                "A version that a region approved cannot be changed; register a new version."
            )
        return super().update(**kwargs)


# Fields of a version that the approval pins down (everything but the bookkeeping).
PINNED_FIELDS = (
    "model_id",
    "version",
    "digest",
    "framework",
    "metrics",
    "training_mode",
    "contains_personal_data",
    "base_version_id",
    "notes",
)


class ModelVersion(models.Model):
    model = models.ForeignKey(MLModel, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=40, validators=[version_validator])
    digest = models.CharField(
        "artifact digest", max_length=71, validators=[digest_validator], db_index=True
    )
    framework = models.CharField(max_length=60, help_text="e.g. pytorch 2.4, xgboost 2.1, onnx")
    metrics = models.JSONField(
        default=dict, blank=True, help_text="Evaluation metrics at registration: name -> number."
    )
    notes = models.TextField(blank=True)

    training_mode = models.CharField(max_length=10, choices=TrainingMode.choices)
    training_jurisdictions = models.ManyToManyField(
        Jurisdiction, blank=True, related_name="+", help_text="Where the training data came from."
    )
    data_categories = models.ManyToManyField(DataCategory, blank=True, related_name="+")
    contains_personal_data = models.BooleanField(
        help_text="Whether this version's own training data held personal data."
    )
    base_version = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="derived_versions",
        help_text="The version it was fine-tuned from (transfer learning).",
    )
    participating_regions = models.ManyToManyField(
        Region, blank=True, related_name="+", help_text="Regions whose updates were aggregated."
    )

    registered_at = models.DateTimeField(auto_now_add=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    frozen_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When a region first approved it."
    )

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["model__name", "-registered_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["model", "version"], name="unique_version_per_model"),
            models.CheckConstraint(
                condition=~Q(training_mode=p.TRANSFER) | Q(base_version__isnull=False),
                name="transfer_learning_needs_base",
            ),
            models.CheckConstraint(
                condition=~Q(training_mode=p.SYNTHETIC) | Q(contains_personal_data=False),
                name="synthetic_holds_no_personal_data",
            ),
        ]

    def __str__(self):
        name = self.model.name if self.model_id else "?"
        return f"{name} {self.version}"

    def save(self, *args, **kwargs):
        if not self._state.adding and self.pk:
            stored = type(self).objects.filter(pk=self.pk).values(*PINNED_FIELDS, "frozen_at")
            stored = stored.first()
            if stored and stored["frozen_at"] is not None:
                changed = [f for f in PINNED_FIELDS if stored[f] != getattr(self, f)]
                if changed or self.frozen_at != stored["frozen_at"]:
                    raise VersionIsImmutable(
                        f"{self} was approved for deployment and cannot be changed "
                        f"({', '.join(f.removesuffix('_id') for f in changed) or 'frozen_at'}); "
                        "register a new version."
                    )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("modelregistry:version", args=[self.model.name, self.version])

    def delete(self, *args, **kwargs):
        if self.frozen_at is not None:
            raise VersionIsImmutable(f"{self} was approved for deployment and cannot be deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    def clean(self):
        errors = {}
        if self.version == "new":
            errors["version"] = "'new' is reserved by the registry's pages."
        if self.training_mode == p.TRANSFER and not self.base_version_id:
            errors["base_version"] = "A transfer-learned version names the base it was tuned from."
        if self.training_mode == p.SYNTHETIC and self.contains_personal_data:
            errors["contains_personal_data"] = (
                "A version trained on synthetic data holds no personal data; if real records "
                "were mixed in, register it as regional or transfer."
            )
        if self.base_version_id and self.pk and self.base_version_id == self.pk:
            errors["base_version"] = "A version cannot be its own base."
        elif self.base_version_id and self.pk:
            seen = {self.pk}
            step = self.base_version
            while step is not None:
                if step.pk in seen:
                    errors["base_version"] = "This base would make the lineage a loop."
                    break
                seen.add(step.pk)
                step = step.base_version
        if not isinstance(self.metrics, dict) or not all(
            isinstance(k, str) and finite_number(v) and len(k) <= 60
            for k, v in self.metrics.items()
        ):
            errors["metrics"] = (
                'Metrics are an object of name -> finite number, e.g. {"auc": 0.91}.'
            )
        if errors:
            raise ValidationError(errors)


class ArtifactLocation(models.Model):
    """Where a copy of a version's artifact is stored in a region (same digest everywhere)."""

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="artifacts")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    uri = models.CharField(max_length=500, help_text="e.g. s3://models-eu-central/fraud/1.2.0")
    added_at = models.DateTimeField(auto_now_add=True)

    region_path = "region"

    class Meta:
        ordering = ["region__slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "region"], name="one_artifact_copy_per_region"
            )
        ]

    def __str__(self):
        return f"{self.version} @ {self.region_id}"

    def clean(self):
        if "://" not in (self.uri or ""):
            raise ValidationError({"uri": "Give a URI with a scheme, e.g. s3://bucket/key."})
        if urlsplit(self.uri).password:  # abfss://container@account is fine, user:pw@ is not
            raise ValidationError({"uri": "Do not put credentials in an artifact URI."})


class DeploymentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    RETIRED = "retired", "Retired"


OPEN_STATUSES = (DeploymentStatus.REQUESTED, DeploymentStatus.APPROVED)


class DeploymentApproval(models.Model):
    """A request to run one version in one region, and its decision.

    ``requested -> approved | rejected``, then ``approved -> retired``. Among a model's
    approved versions in a region exactly one is desired (what the region's bundle carries).
    """

    Status = DeploymentStatus

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="approvals")
    # Copied from the version, so "one desired version per model per region" is a constraint.
    model = models.ForeignKey(MLModel, on_delete=models.PROTECT, related_name="approvals")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="model_approvals")
    status = models.CharField(
        max_length=10,
        choices=DeploymentStatus.choices,
        default=DeploymentStatus.REQUESTED,
        db_index=True,
    )
    is_desired = models.BooleanField(default=False)
    justification = models.TextField(blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deployment_requests"
    )
    requested_at = models.DateTimeField(auto_now_add=True)

    # The cross-border check, as of the last evaluation.
    policy_allowed = models.BooleanField(default=False)
    policy_findings = models.JSONField(default=list, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)

    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deployment_decisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    confirmed = models.JSONField(
        default=list, blank=True, help_text="Finding codes the approver explicitly confirmed."
    )

    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    retire_reason = models.TextField(blank=True)
    withdrawn_because = models.ForeignKey(
        "transfers.TransferRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="withdrawn_deployments",
        help_text="The ended transfer whose loss withdrew this deployment.",
    )

    region_path = "region"

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "region"],
                condition=Q(status__in=["requested", "approved"]),
                name="one_open_deployment_per_version_region",
            ),
            models.UniqueConstraint(
                fields=["model", "region"],
                condition=Q(is_desired=True),
                name="one_desired_version_per_model_region",
            ),
            models.CheckConstraint(
                condition=Q(is_desired=False) | Q(status="approved"),
                name="only_approved_is_desired",
            ),
        ]
        indexes = [models.Index(fields=["region", "status"])]

    def __str__(self):
        return f"DA-{self.pk}"

    def get_absolute_url(self):
        return reverse("modelregistry:deployment", args=[self.pk])

    @property
    def blocking_findings(self):
        return [f for f in self.policy_findings if f.get("severity") == "blocking"]

    @property
    def needs_confirmation(self):
        return sorted({c.code for c in self.conditions_to_confirm})

    @property
    def conditions_to_confirm(self):
        from controlplane.decisions import conditions_of

        return conditions_of(self.policy_findings)

    @property
    def decision(self) -> str | None:
        """What was decided first (approved or rejected), whatever happened since."""
        if not self.decided_by_id:
            return None
        return "rejected" if self.status == DeploymentStatus.REJECTED else "approved"

    def clean(self):
        if self.version_id and self.model_id and self.version.model_id != self.model_id:
            raise ValidationError({"model": "It must be the version's model."})
