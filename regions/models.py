"""Where data lives: jurisdictions, countries, regions and what each region holds."""

from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from regions.validators import parse_key_reference


class Jurisdiction(models.Model):
    """A body of data-protection law: the EEA under the GDPR, the UK under the UK GDPR, ..."""

    code = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=100)
    law = models.CharField(max_length=200, help_text="The data-protection law that governs it.")

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class Country(models.Model):
    code = models.CharField(
        max_length=2, unique=True, validators=[RegexValidator(r"^[A-Z]{2}$", "ISO 3166-1 alpha-2")]
    )
    name = models.CharField(max_length=100)
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="countries"
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "countries"

    def __str__(self):
        return f"{self.name} ({self.code})"


class Provider(models.TextChoices):
    AWS = "aws", "Amazon Web Services"
    AZURE = "azure", "Microsoft Azure"
    GCP = "gcp", "Google Cloud"
    ONPREM = "onprem", "On premises"


slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$", "Lower-case words joined by hyphens."
)


class Region(models.Model):
    """A deployment location bound to exactly one jurisdiction."""

    slug = models.SlugField(max_length=50, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=100)
    jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="regions")
    country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        related_name="regions",
        help_text="Where the region's data centres stand.",
    )
    provider = models.CharField(max_length=10, choices=Provider.choices)
    cloud_region = models.CharField(
        max_length=40,
        validators=[RegexValidator(r"^[a-z0-9-]+$", "A cloud region code such as eu-central-1.")],
    )
    description = models.TextField(blank=True)
    metrics_k = models.PositiveIntegerField(
        "metrics k threshold",
        default=10,
        validators=[MinValueValidator(2), MaxValueValidator(1000)],
        help_text="Agents suppress every metric cell with fewer observations; ingestion refuses them.",
    )
    metrics_epsilon = models.FloatField(
        "metrics epsilon",
        null=True,
        blank=True,
        validators=[MinValueValidator(0.01), MaxValueValidator(10)],
        help_text="When set, agents add Laplace noise to each released number (differential privacy).",
    )

    class Meta:
        ordering = ["slug"]
        permissions = [
            ("approve_transfers", "Approve transfers out of this region"),
            ("approve_deployments", "Approve model deployments to this region"),
        ]

    # Used by controlplane.permissions.restrict(): the path from this model to its Region.
    region_path = None

    def __str__(self):
        return self.slug

    def get_absolute_url(self):
        return reverse("regions:detail", args=[self.slug])

    def clean(self):
        if (
            self.country_id
            and self.jurisdiction_id
            and self.country.jurisdiction_id != self.jurisdiction_id
        ):
            raise ValidationError(
                {
                    "country": f"{self.country} belongs to {self.country.jurisdiction}, not {self.jurisdiction}."
                }
            )


class KeyReference(models.Model):
    """The address of a region-local encryption key in a cloud KMS. Never the key itself."""

    class KeyProvider(models.TextChoices):
        AWS_KMS = "aws_kms", "AWS KMS"
        AZURE_KEY_VAULT = "azure_key_vault", "Azure Key Vault"

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="keys")
    name = models.CharField(max_length=100)
    uri = models.CharField("key ARN or URI", max_length=400, unique=True)
    key_provider = models.CharField(max_length=20, choices=KeyProvider.choices, editable=False)

    region_path = "region"

    class Meta:
        ordering = ["region__slug", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="unique_key_name_per_region")
        ]

    def __str__(self):
        return f"{self.region.slug}/{self.name}"

    def clean(self):
        try:
            parsed = parse_key_reference(self.uri or "")
        except ValidationError as error:
            raise ValidationError({"uri": error.messages}) from None
        self.key_provider = parsed["provider"]
        if not self.region_id:
            return
        region = self.region
        if parsed["provider"] == "aws_kms":
            if region.provider != Provider.AWS:
                raise ValidationError(
                    {
                        "uri": f"An AWS KMS key cannot serve {region.slug}, a {region.get_provider_display()} region."
                    }
                )
            if parsed["cloud_region"] != region.cloud_region:
                raise ValidationError(
                    {
                        "uri": f"This key lives in {parsed['cloud_region']}, but {region.slug} is in "
                        f"{region.cloud_region}. Keys must be region-local."
                    }
                )
        if parsed["provider"] == "azure_key_vault" and region.provider != Provider.AZURE:
            raise ValidationError(
                {
                    "uri": f"An Azure Key Vault key cannot serve {region.slug}, a {region.get_provider_display()} region."
                }
            )


class DataStore(models.Model):
    class Kind(models.TextChoices):
        POSTGRESQL = "postgresql", "PostgreSQL"
        OBJECT_STORE = "object_store", "Object store"
        WAREHOUSE = "warehouse", "Data warehouse"
        FEATURE_STORE = "feature_store", "Feature store"
        VECTOR_STORE = "vector_store", "Vector store"
        QUEUE = "queue", "Message queue"

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="data_stores")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    location_uri = models.CharField(
        max_length=400, help_text="e.g. s3://bucket/prefix or postgres://host/db"
    )
    retention_days = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    key = models.ForeignKey(
        KeyReference,
        on_delete=models.PROTECT,
        related_name="data_stores",
        null=True,
        blank=True,
        help_text="The region-local key that encrypts this store.",
    )

    region_path = "region"

    class Meta:
        ordering = ["region__slug", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="unique_store_name_per_region")
        ]

    def __str__(self):
        return f"{self.region.slug}/{self.name}"

    def clean(self):
        if self.key_id and self.region_id and self.key.region_id != self.region_id:
            raise ValidationError(
                {"key": "The key must belong to the same region as the data store."}
            )
        if urlsplit(self.location_uri or "").password:
            raise ValidationError({"location_uri": "Do not put credentials in a location URI."})


class InferenceEndpoint(models.Model):
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="endpoints")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=400)

    region_path = "region"

    class Meta:
        ordering = ["region__slug", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "name"], name="unique_endpoint_name_per_region"
            )
        ]

    def __str__(self):
        return f"{self.region.slug}/{self.name}"


class DataCategory(models.Model):
    """A dotted key in the fideslang taxonomy, e.g. ``user.contact.email``."""

    key = models.CharField(max_length=120, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    is_special_category = models.BooleanField(
        default=False, help_text="GDPR Art. 9 special category (health, biometrics, beliefs, ...)."
    )
    is_criminal_offence_data = models.BooleanField(default=False, help_text="GDPR Art. 10.")

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "data categories"

    def __str__(self):
        return self.key


class ResidencyRule(models.Model):
    """``(subject country, data category, contract tag) -> home jurisdiction``, first match wins.

    Blank conditions match anything. A record that no rule matches is refused (default deny).
    """

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="residency_rules")
    position = models.PositiveIntegerField(help_text="Rules are tried in ascending order.")
    subject_country = models.ForeignKey(
        Country, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data_category = models.ForeignKey(
        DataCategory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Matches this category and everything below it.",
    )
    contract_tag = models.CharField(max_length=60, blank=True)
    home_jurisdiction = models.ForeignKey(Jurisdiction, on_delete=models.PROTECT, related_name="+")
    data_store = models.ForeignKey(
        DataStore,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where matching records land when their home is this region.",
    )

    region_path = "region"

    class Meta:
        ordering = ["region__slug", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "position"], name="unique_rule_position_per_region"
            )
        ]

    def __str__(self):
        conditions = [
            f"country={self.subject_country.code}" if self.subject_country_id else "",
            f"category={self.data_category.key}" if self.data_category_id else "",
            f"tag={self.contract_tag}" if self.contract_tag else "",
        ]
        return f"{self.region.slug}#{self.position}: {' '.join(c for c in conditions if c) or 'any'} -> {self.home_jurisdiction.code}"

    def clean(self):
        if self.data_store_id and self.region_id and self.data_store.region_id != self.region_id:
            raise ValidationError({"data_store": "The data store must be in this rule's region."})
        if (
            self.data_store_id
            and self.region_id
            and self.home_jurisdiction_id
            and self.region.jurisdiction_id != self.home_jurisdiction_id
        ):
            raise ValidationError(
                {
                    "data_store": "Only records whose home is this region's jurisdiction can land in its stores."
                }
            )


# Agent identities live in their own module (issue 5); importing them here registers the model.
from regions.agents import Agent, Drift  # noqa: E402, F401
