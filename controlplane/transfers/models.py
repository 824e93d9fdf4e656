"""The transfer register: parties, legal mechanisms, transfer requests and the transfer log.

Mechanisms live in ONE table with a ``kind`` (adequacy, scc, bcr, idta, uk_addendum), not one
table per kind. Every kind shares what the register works with most: a validity window, a
status, a review date, a source; a transfer request points at "the mechanism it relies on"
with one foreign key; ending a mechanism, the daily expiry check and the impact page are one
query each. The kind-specific columns are few and nullable, and ``clean()`` checks that each
kind has the ones it needs. Derogations are not rows: they are a choice on the request.
"""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from controlplane.transfers import policy as p
from regions.models import Country, DataCategory, Jurisdiction, Region


def _choices(values, labels=None):
    labels = labels or {}
    return [(v, labels.get(v, v.replace("_", " ").capitalize())) for v in values]


ROLE_CHOICES = _choices(p.ROLES)
CERTIFICATION_CHOICES = list(p.CERTIFICATIONS.items())
HINT_CHOICES = list(p.SCOPE_HINTS.items())
STATUS_CHOICES = _choices(
    p.STATUSES, {"in_force": "In force", "invalidated": "Invalidated by a court"}
)
KIND_CHOICES = [
    (p.KIND_ADEQUACY, "Adequacy decision"),
    (p.KIND_BCR, "Binding corporate rules"),
    (p.KIND_SCC, "EU standard contractual clauses"),
    (p.KIND_IDTA, "UK IDTA"),
    (p.KIND_UK_ADDENDUM, "UK Addendum to the EU SCCs"),
]
TIA_CHOICES = [
    (p.TIA_NO_CONCERNS, "No concerns found"),
    (p.TIA_SUPPLEMENTARY_MEASURES, "Proceed with supplementary measures"),
    (p.TIA_DO_NOT_TRANSFER, "Do not transfer"),
]
DEROGATION_CHOICES = [(k, f"{ref} {label}") for k, (ref, label) in p.DEROGATIONS.items()]
FREQUENCY_CHOICES = [
    (p.ONE_OFF, "One-off"),
    (p.OCCASIONAL, "Occasional (now and then, outside the regular course of business)"),
    (p.RECURRING, "Regular (recurring, within an established relationship)"),
]
ART9_CHOICES = list(p.ART9_CONDITIONS.items())
BASIS_CHOICES = [
    (p.BASIS_NONE_NEEDED, "No transfer"),
    (p.BASIS_ADEQUACY, "Adequacy"),
    (p.BASIS_BCR, "BCR"),
    (p.BASIS_SCC, "SCC"),
    (p.BASIS_IDTA, "UK IDTA"),
    (p.BASIS_UK_ADDENDUM, "UK Addendum"),
    (p.BASIS_DEROGATION, "Art. 49 derogation"),
]


def _check_keys(value, allowed, field):
    if not isinstance(value, list) or any(v not in allowed for v in value):
        raise ValidationError({field: f"Use a list of: {', '.join(sorted(allowed))}."})


def check_answers(value, allowed, field):
    """A ``{key: true|false}`` object over ``allowed`` keys (what a request states)."""
    if not isinstance(value, dict):
        raise ValidationError({field: "Use an object of {fact: true or false}."})
    unknown = sorted(k for k in value if k not in allowed)
    if unknown:
        raise ValidationError(
            {field: f"Unknown facts: {', '.join(unknown)}. Use: {', '.join(sorted(allowed))}."}
        )
    if any(not isinstance(v, bool) for v in value.values()):
        raise ValidationError(
            {field: "Each fact is true or false (leave out what you do not know)."}
        )


class Party(models.Model):
    """A legal entity that exports or imports data."""

    name = models.CharField(max_length=200)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(
        max_length=12, choices=ROLE_CHOICES, help_text="Its usual role in transfers."
    )
    certifications = models.JSONField(
        default=list, blank=True, help_text="e.g. EU-US-DPF, UK-US-DATA-BRIDGE, SWISS-US-DPF."
    )
    hints = models.JSONField(
        default=list,
        blank=True,
        help_text="Facts adequacy scopes depend on (commercial organisation, public authority...).",
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "parties"
        constraints = [
            models.UniqueConstraint(fields=["name", "country"], name="unique_party_per_country")
        ]

    def __str__(self):
        return f"{self.name} ({self.country.code})"

    def clean(self):
        _check_keys(self.certifications, set(p.CERTIFICATIONS), "certifications")
        _check_keys(self.hints, set(p.SCOPE_HINTS), "hints")

    def to_facts(self, role: str | None = None, scope=None) -> p.PartyFacts:
        return p.PartyFacts(
            name=self.name,
            country=self.country.code,
            role=role or self.role,
            certifications=frozenset(self.certifications),
            hints=frozenset(self.hints),
            id=self.pk,
            scope=scope or {},
            jurisdiction=self.country.jurisdiction.code,
        )

    def to_ref(self) -> p.PartyRef:
        return p.PartyRef(self.name, self.country.code, self.pk)


class MechanismQuerySet(models.QuerySet):
    def with_relations(self):
        return self.select_related(
            "from_jurisdiction",
            "to_country",
            "to_jurisdiction",
            "exporter__country",
            "importer__country",
        ).prefetch_related("categories", "members__country")

    def not_ended(self):
        return self.filter(status=p.IN_FORCE)


class Mechanism(models.Model):
    """A legal mechanism for transfers. See the module docstring for why one table."""

    kind = models.CharField(max_length=12, choices=KIND_CHOICES, db_index=True)
    key = models.SlugField(max_length=80, unique=True, help_text="Stable identifier.")
    name = models.CharField(max_length=200)
    reference = models.CharField(max_length=200, blank=True, help_text="Decision or contract ref.")
    status = models.CharField(
        max_length=12, choices=STATUS_CHOICES, default=p.IN_FORCE, db_index=True
    )
    valid_from = models.DateField()
    ends_on = models.DateField(
        null=True, blank=True, db_index=True, help_text="First day it no longer applies."
    )
    review_on = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=300, blank=True)
    verified = models.BooleanField(
        default=True, help_text="False when the facts rest on a single secondary source."
    )
    notes = models.TextField(blank=True)
    status_reason = models.TextField(blank=True)
    expiry_warned_on = models.DateField(null=True, blank=True, editable=False)

    # Adequacy (from_jurisdiction is also the approving jurisdiction of a BCR).
    from_jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_country = models.ForeignKey(
        Country, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_organisation = models.CharField(max_length=200, blank=True)
    scope = models.CharField(max_length=300, blank=True, default="")
    partial = models.BooleanField(default=False)
    requires_certification = models.CharField(
        max_length=40, blank=True, choices=CERTIFICATION_CHOICES
    )
    requires_hints = models.JSONField(default=list, blank=True)
    excluded_hints = models.JSONField(default=list, blank=True)

    # Contracts: SCC, IDTA, UK Addendum.
    exporter = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="exports"
    )
    importer = models.ForeignKey(
        Party, on_delete=models.PROTECT, null=True, blank=True, related_name="imports"
    )
    module = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    scc_decision = models.CharField(max_length=30, blank=True, default=p.SCC_DECISION_2021)
    docking = models.BooleanField(default=False, help_text="Clause 7 docking clause included.")
    annex_reference = models.CharField(max_length=200, blank=True)
    tia_on = models.DateField("TIA date", null=True, blank=True)
    tia_outcome = models.CharField(max_length=30, blank=True, choices=TIA_CHOICES)
    tia_valid_until = models.DateField(null=True, blank=True)

    # BCR.
    group = models.CharField(max_length=200, blank=True)
    bcr_type = models.CharField(max_length=12, blank=True, choices=ROLE_CHOICES)
    lead_authority = models.CharField(max_length=200, blank=True)
    edpb_opinion = models.CharField(max_length=100, blank=True)
    members = models.ManyToManyField(Party, blank=True, related_name="bcrs")

    # Contracts and BCRs: the data categories covered (empty: not limited).
    categories = models.ManyToManyField(DataCategory, blank=True, related_name="+")

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MechanismQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("transfers:mechanism", args=[self.pk])

    @property
    def is_contract(self) -> bool:
        return self.kind in (p.KIND_SCC, p.KIND_IDTA, p.KIND_UK_ADDENDUM)

    def clean(self):
        errors = {}
        if self.kind == p.KIND_ADEQUACY:
            if not self.from_jurisdiction_id:
                errors["from_jurisdiction"] = "An adequacy decision is made by a jurisdiction."
            targets = [bool(self.to_country_id), bool(self.to_jurisdiction_id)]
            if sum(targets) + bool(self.to_organisation) != 1:
                errors["to_country"] = "Name one country, one jurisdiction or one organisation."
        if self.is_contract:
            if not (self.exporter_id and self.importer_id):
                errors["exporter"] = "A contract names its exporter and importer."
            if self.kind in (p.KIND_SCC, p.KIND_UK_ADDENDUM) and not self.module:
                errors["module"] = "Give the SCC module (1-4)."
        if self.kind == p.KIND_BCR:
            if not self.from_jurisdiction_id:
                errors["from_jurisdiction"] = "Give the jurisdiction whose authority approved them."
            if not self.bcr_type:
                errors["bcr_type"] = "Controller or processor BCRs?"
            if not self.group:
                errors["group"] = "Name the group."
        if self.ends_on and self.valid_from and self.ends_on <= self.valid_from:
            errors["ends_on"] = "The end must come after the start."
        for field in ("requires_hints", "excluded_hints"):
            try:
                _check_keys(getattr(self, field), set(p.SCOPE_HINTS), field)
            except ValidationError as e:
                errors.update(e.message_dict)
        if errors:
            raise ValidationError(errors)

    def tia_expires_on(self) -> date | None:
        if not self.tia_on:
            return None
        return self.tia_valid_until or (self.tia_on + p.TIA_DEFAULT_VALIDITY)

    def to_policy(self) -> p.Mechanism:
        """This row as the policy engine's dataclass (relations must be loaded)."""
        common = dict(
            key=self.key,
            name=self.name,
            reference=self.reference,
            status=self.status,
            valid_from=self.valid_from,
            ends_on=self.ends_on,
            review_on=self.review_on,
            status_reason=self.status_reason,
        )
        categories = frozenset(c.key for c in self.categories.all())
        if self.kind == p.KIND_ADEQUACY:
            return p.AdequacyDecision(
                **common,
                from_jurisdiction=self.from_jurisdiction.code,
                to_country=self.to_country.code if self.to_country_id else None,
                to_jurisdiction=self.to_jurisdiction.code if self.to_jurisdiction_id else None,
                to_organisation=self.to_organisation or None,
                scope=self.scope or "the whole country",
                partial=self.partial,
                requires_certification=self.requires_certification or None,
                requires_hints=frozenset(self.requires_hints),
                excluded_hints=frozenset(self.excluded_hints),
            )
        if self.kind == p.KIND_BCR:
            return p.BCR(
                **common,
                group=self.group,
                bcr_type=self.bcr_type,
                jurisdiction=self.from_jurisdiction.code,
                lead_authority=self.lead_authority,
                members=tuple(m.to_ref() for m in self.members.all()),
                categories=categories,
                tia_on=self.tia_on,
                tia_outcome=self.tia_outcome or None,
                tia_valid_until=self.tia_valid_until,
            )
        contract = dict(
            common,
            exporter=self.exporter.to_ref(),
            importer=self.importer.to_ref(),
            tia_on=self.tia_on,
            tia_outcome=self.tia_outcome or None,
            tia_valid_until=self.tia_valid_until,
            categories=categories,
        )
        if self.kind == p.KIND_SCC:
            return p.SCC(
                **contract,
                module=self.module,
                decision=self.scc_decision or p.SCC_DECISION_2021,
                docking=self.docking,
                annex_reference=self.annex_reference,
            )
        if self.kind == p.KIND_IDTA:
            return p.IDTA(**contract)
        return p.UKAddendum(**contract, module=self.module)


class TransferStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    WITHDRAWN = "withdrawn", "Withdrawn by the requester"


# Approved transfers that may run: "approved" (not started yet) and "active" (running).
IN_EFFECT = (TransferStatus.APPROVED, TransferStatus.ACTIVE)


class TransferRequest(models.Model):
    """A proposed cross-border flow, the engine's verdict on it, and the DPO's decision."""

    Status = TransferStatus

    source_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="outgoing_transfers"
    )
    destination_region = models.ForeignKey(
        Region,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incoming_transfers",
        help_text="When the data goes to one of our regions.",
    )
    destination_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    exporter = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    exporter_role = models.CharField(max_length=12, choices=ROLE_CHOICES)
    importer = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="+")
    importer_role = models.CharField(max_length=12, choices=ROLE_CHOICES)
    data_categories = models.ManyToManyField(DataCategory, related_name="+")
    data_subjects = models.CharField(
        max_length=300, help_text="Whose data: customers, employees, patients..."
    )
    purpose = models.TextField()
    frequency = models.CharField(max_length=10, choices=FREQUENCY_CHOICES)
    volume_estimate = models.PositiveIntegerField(
        null=True, blank=True, help_text="Records (or people) a year."
    )
    derogation = models.CharField(max_length=40, blank=True, choices=DEROGATION_CHOICES)
    chosen_mechanism = models.ForeignKey(
        Mechanism, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_expiry = models.DateField(null=True, blank=True)

    # Facts the request states (docs/transfers.md, "Facts a request can state"). Scope facts
    # are {fact: true|false}; a fact left out is unknown, never "no".
    importer_scope = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the requester states about the importer for this transfer "
        "(certifications, APPI operator, public authority...).",
    )
    exporter_scope = models.JSONField(
        default=dict, blank=True, help_text="E.g. subject to the GDPR under Art. 3(2)."
    )
    hr_data = models.BooleanField(
        null=True, blank=True, help_text="Data about employees in an employment context."
    )
    art9_condition = models.CharField(max_length=1, blank=True, choices=ART9_CHOICES)
    art10_authorisation = models.CharField(max_length=300, blank=True)
    tia_on = models.DateField("TIA date", null=True, blank=True)
    tia_outcome = models.CharField(max_length=30, blank=True, choices=TIA_CHOICES)
    derogation_facts = models.JSONField(default=dict, blank=True)
    onward_transfers = models.JSONField(
        default=list,
        blank=True,
        help_text='The chain after the importer: [{"party": id, "role": "processor"}, ...].',
    )

    status = models.CharField(
        max_length=10, choices=TransferStatus.choices, default=TransferStatus.DRAFT, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transfer_requests"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True, db_index=True)

    # The engine's verdict, as of the last evaluation.
    is_transfer = models.BooleanField(default=True)
    policy_allowed = models.BooleanField(default=False)
    policy_basis = models.CharField(max_length=12, blank=True, choices=BASIS_CHOICES)
    policy_mechanism = models.ForeignKey(
        Mechanism, on_delete=models.PROTECT, null=True, blank=True, related_name="relied_on_by"
    )
    policy_findings = models.JSONField(default=list, blank=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    has_special_categories = models.BooleanField(default=False, db_index=True)

    # The decision.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="transfer_decisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    conditions = models.TextField(blank=True)
    confirmed_conditions = models.JSONField(
        default=list, blank=True, help_text="Condition codes the approver confirmed."
    )
    rejection_reason = models.TextField(blank=True)
    expires_on = models.DateField(null=True, blank=True, db_index=True)

    # Suspension, expiry or revocation after approval.
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    suspended_because = models.ForeignKey(
        Mechanism,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="suspended_transfers",
    )

    region_path = "source_region"

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "submitted_at"])]

    def __str__(self):
        return f"TR-{self.pk}"

    def get_absolute_url(self):
        return reverse("transfers:detail", args=[self.pk])

    @property
    def in_effect(self) -> bool:
        return self.status in IN_EFFECT

    @property
    def blocking_findings(self):
        return [f for f in self.policy_findings if f.get("severity") == p.BLOCKING]

    def clean(self):
        errors = {}
        if (
            self.destination_region_id
            and self.destination_country_id
            and self.destination_region.country_id != self.destination_country_id
        ):
            errors["destination_country"] = "It must be the destination region's country."
        if self.destination_region_id and self.destination_region_id == self.source_region_id:
            errors["destination_region"] = "The destination must differ from the source."
        checks = (
            ("importer_scope", p.SCOPE_KEYS),
            ("exporter_scope", p.SCOPE_KEYS),
            ("derogation_facts", set(p.DEROGATION_CONDITIONS)),
        )
        for field, allowed in checks:
            try:
                check_answers(getattr(self, field), allowed, field)
            except ValidationError as e:
                errors.update(e.message_dict)
        if bool(self.tia_on) != bool(self.tia_outcome):
            errors["tia_outcome"] = "Give the TIA's date and its outcome together."
        if not isinstance(self.onward_transfers, list) or any(
            not isinstance(leg, dict) or set(leg) - {"party", "role"} or "party" not in leg
            for leg in self.onward_transfers
        ):
            errors["onward_transfers"] = 'Use a list of {"party": id, "role": ...}.'
        if errors:
            raise ValidationError(errors)

    @property
    def conditions_to_confirm(self):
        from controlplane.decisions import conditions_of

        return conditions_of(self.policy_findings)

    @property
    def decision(self) -> str | None:
        """What the DPO decided first (approved or rejected), whatever happened since."""
        if not self.decided_by_id:
            return None
        return "rejected" if self.status == TransferStatus.REJECTED else "approved"


class TransferRecordQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TransferRecordIsImmutable("Transfer records cannot be changed.")

    def delete(self):
        raise TransferRecordIsImmutable("Transfer records cannot be deleted.")


class TransferRecordIsImmutable(Exception):
    """Raised when code tries to change or remove an executed-transfer record."""


class TransferRecord(models.Model):
    """One executed transfer. Append-only: written once, never changed or removed."""

    request = models.ForeignKey(
        TransferRequest,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="records",
        help_text="The approved request it ran under (None when nobody claimed one).",
    )
    source_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    destination_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    destination_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    exporter_name = models.CharField(max_length=200, blank=True)
    importer_name = models.CharField(max_length=200, blank=True)
    categories = models.JSONField(default=list, help_text="Data category keys.")
    volume = models.PositiveBigIntegerField(default=0)
    executed_at = models.DateTimeField(db_index=True)
    legal_basis = models.CharField(max_length=12, blank=True, choices=BASIS_CHOICES)
    reported_by = models.CharField(max_length=150, help_text="Who reported it (user or agent).")
    idempotency_key = models.CharField(
        max_length=100,
        null=True,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z0-9._:-]+$")],
        help_text="Unique within the source region: a retry stores once, and one region's key "
        "never finds another region's record.",
    )
    violation = models.BooleanField(default=False, db_index=True)
    violation_reason = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = TransferRecordQuerySet.as_manager()
    region_path = "source_region"

    class Meta:
        ordering = ["-executed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_region", "idempotency_key"], name="unique_record_key_per_region"
            )
        ]

    def __str__(self):
        return f"record {self.pk} ({self.source_region_id} -> {self.destination_country_id})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TransferRecordIsImmutable("Transfer records cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TransferRecordIsImmutable("Transfer records cannot be deleted.")
