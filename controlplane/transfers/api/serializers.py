from datetime import date

from django.utils import timezone
from rest_framework import serializers

from controlplane.api.copied_fields import CopiedFieldsMixin
from controlplane.decisions import ConfirmedSerializerField
from controlplane.permissions import can
from controlplane.transfers import policy as p
from controlplane.transfers import register
from controlplane.transfers.models import (
    BASIS_CHOICES,
    DEROGATION_CHOICES,
    FREQUENCY_CHOICES,
    ROLE_CHOICES,
    Mechanism,
    Party,
    TransferRecord,
    TransferRequest,
)
from controlplane.transfers.selectors import visible_requests
from regions.models import Country, DataCategory, Region


def _register(serializer) -> register.Register:
    """The register the dry run reads, once per request (the view puts it in the context)."""
    return serializer.context.get("register") or register.current()


def _country(code: str, reg: register.Register) -> Country:
    country = reg.countries.get(code.upper())
    if country is None:
        raise serializers.ValidationError(f"Unknown country {code!r} (use ISO 3166-1 alpha-2).")
    return country


class PartyFactsSerializer(CopiedFieldsMixin, serializers.Serializer):
    """A party given inline ({name, country, role, ...}) or by id ({"id": 3})."""

    id = serializers.IntegerField(required=False)
    name = serializers.CharField(required=False, max_length=200)
    country = serializers.CharField(required=False, max_length=2)
    role = serializers.ChoiceField(choices=ROLE_CHOICES, required=False)
    certifications = serializers.ListField(
        child=serializers.ChoiceField(choices=list(p.CERTIFICATIONS)), required=False
    )
    hints = serializers.ListField(
        child=serializers.ChoiceField(choices=list(p.SCOPE_HINTS)), required=False
    )
    scope = serializers.DictField(
        child=serializers.BooleanField(),
        required=False,
        help_text="What the request states for this transfer, {fact: true|false}; leave out "
        "what is not known (it becomes a condition, never a no).",
    )

    def validate_country(self, value):
        return _country(value, _register(self)).code

    def validate_scope(self, value):
        unknown = sorted(set(value) - p.SCOPE_KEYS)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown facts: {', '.join(unknown)}. Use: {', '.join(sorted(p.SCOPE_KEYS))}."
            )
        return value

    def validate(self, data):
        try:
            if "id" in data:
                party = (
                    Party.objects.select_related("country__jurisdiction")
                    .filter(pk=data["id"])
                    .first()
                )
                if party is None:
                    raise serializers.ValidationError({"id": f"Unknown party {data['id']}."})
                return party.to_facts(data.get("role"), data.get("scope"))
            missing = [f for f in ("name", "country", "role") if f not in data]
            if missing:
                raise serializers.ValidationError({f: "This field is required." for f in missing})
            return p.PartyFacts(
                name=data["name"],
                country=data["country"],
                jurisdiction=_country(data["country"], _register(self)).jurisdiction.code,
                role=data["role"],
                certifications=frozenset(data.get("certifications", [])),
                hints=frozenset(data.get("hints", [])),
                scope=data.get("scope"),
            )
        except ValueError as error:  # contradictory facts (Art. 3(2) and an EEA establishment)
            raise serializers.ValidationError({"scope": str(error)}) from error


class TIASerializer(CopiedFieldsMixin, serializers.Serializer):
    on = serializers.DateField()
    outcome = serializers.ChoiceField(choices=list(p.TIA_OUTCOMES))


class WhatIfMechanismSerializer(CopiedFieldsMixin, serializers.Serializer):
    """A mechanism between the request's two parties that is not on record yet ("what if we
    signed SCC module 2?"). Only the dry run takes it; nothing is saved."""

    kind = serializers.ChoiceField(choices=[p.KIND_SCC, p.KIND_IDTA, p.KIND_UK_ADDENDUM])
    module = serializers.IntegerField(required=False, allow_null=True, default=None)
    tia = TIASerializer(required=False, allow_null=True, default=None)
    categories = serializers.ListField(child=serializers.CharField(), required=False, default=list)

    def validate_module(self, value):
        if value is not None and value not in p.SCC_MODULES:
            raise serializers.ValidationError(
                f"Unknown SCC module {value}: Decision 2021/914 has modules 1 to 4."
            )
        return value

    def validate(self, data):
        if data["kind"] in (p.KIND_SCC, p.KIND_UK_ADDENDUM) and data.get("module") is None:
            raise serializers.ValidationError({"module": "Give the SCC module (1 to 4)."})
        return data


class EvaluateSerializer(CopiedFieldsMixin, serializers.Serializer):
    source_region = serializers.CharField(required=False)
    source_country = serializers.CharField(required=False, max_length=2)
    destination_region = serializers.CharField(required=False)
    destination_country = serializers.CharField(required=False, max_length=2)
    exporter = PartyFactsSerializer()
    importer = PartyFactsSerializer()
    data_categories = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    frequency = serializers.ChoiceField(choices=FREQUENCY_CHOICES, default=p.ONE_OFF)
    derogation = serializers.ChoiceField(
        choices=DEROGATION_CHOICES, required=False, allow_null=True, default=None
    )
    chosen_mechanism = serializers.CharField(required=False, allow_null=True, default=None)
    on = serializers.DateField(required=False, allow_null=True, default=None)
    hr_data = serializers.BooleanField(required=False, allow_null=True, default=None)
    art9_condition = serializers.ChoiceField(
        choices=list(p.ART9_CONDITIONS.items()), required=False, allow_null=True, default=None
    )
    art10_authorisation = serializers.CharField(
        required=False, allow_blank=True, max_length=300, default=""
    )
    tia = TIASerializer(required=False, allow_null=True, default=None)
    derogation_facts = serializers.DictField(
        child=serializers.BooleanField(), required=False, default=dict
    )
    onward = PartyFactsSerializer(many=True, required=False, default=list)
    what_if = WhatIfMechanismSerializer(required=False, allow_null=True, default=None)

    def validate_derogation_facts(self, value):
        unknown = sorted(set(value) - set(p.DEROGATION_CONDITIONS))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown conditions: {', '.join(unknown)}. Use: "
                f"{', '.join(sorted(p.DEROGATION_CONDITIONS))}."
            )
        return value

    def validate_source_region(self, value):
        region = _register(self).regions.get(value)
        if region is None or not can(self.context["request"].user, "view", region):
            raise serializers.ValidationError(f"Unknown region {value!r}.")
        return region

    def validate_destination_region(self, value):
        region = _register(self).regions.get(value)
        if region is None:
            raise serializers.ValidationError(f"Unknown region {value!r}.")
        return region

    def validate_source_country(self, value):
        return _country(value, _register(self))

    def validate_destination_country(self, value):
        return _country(value, _register(self))

    def validate_data_categories(self, value):
        found = _register(self).categories
        unknown = [k for k in value if k not in found]
        if unknown:
            raise serializers.ValidationError(f"Unknown data categories: {', '.join(unknown)}.")
        return [found[k] for k in dict.fromkeys(value)]

    def validate_chosen_mechanism(self, value):
        if value and value not in _register(self).mechanism_keys:
            raise serializers.ValidationError(f"Unknown mechanism {value!r}.")
        return value

    def validate(self, data):
        errors = {}
        if "source_region" in data and "source_country" in data:
            errors["source_region"] = "Give source_region or source_country, not both."
        elif "source_region" not in data and "source_country" not in data:
            errors["source_region"] = "Give source_region or source_country."
        if "destination_region" in data and "destination_country" in data:
            errors["destination_region"] = "Give destination_region or destination_country."
        elif "destination_region" not in data and "destination_country" not in data:
            errors["destination_country"] = "Give destination_country or destination_region."
        if errors:
            raise serializers.ValidationError(errors)
        return data

    def to_facts(self) -> tuple[p.TransferFacts, object]:
        d = self.validated_data
        source = d.get("source_region")
        src_country = source.country if source else d["source_country"]
        src_jurisdiction = source.jurisdiction.code if source else src_country.jurisdiction.code
        dest = d.get("destination_region")
        dst_country = dest.country if dest else d["destination_country"]
        cats = d["data_categories"]
        facts = p.TransferFacts(
            source_country=src_country.code,
            source_jurisdiction=src_jurisdiction,
            destination_country=dst_country.code,
            destination_jurisdiction=dst_country.jurisdiction.code,
            exporter=d["exporter"],
            importer=d["importer"],
            data_categories=tuple(c.key for c in cats),
            special_categories=frozenset(c.key for c in cats if c.is_special_category),
            criminal_categories=frozenset(c.key for c in cats if c.is_criminal_offence_data),
            frequency=d["frequency"],
            derogation=d.get("derogation"),
            chosen_mechanism=d.get("chosen_mechanism"),
            destination_name=dst_country.name,
            hr_data=d.get("hr_data"),
            art9_condition=d.get("art9_condition"),
            art10_authorisation=d.get("art10_authorisation", ""),
            tia=p.TIA(d["tia"]["on"], d["tia"]["outcome"]) if d.get("tia") else None,
            derogation_facts=d.get("derogation_facts") or {},
            onward=tuple(p.OnwardLeg(leg) for leg in d.get("onward") or ()),
        )
        return facts, d.get("on") or timezone.localdate()

    def hypothetical_mechanism(self, facts: p.TransferFacts) -> p.Mechanism | None:
        """The hypothetical mechanism, as the engine's dataclass, or None."""
        w = self.validated_data.get("what_if")
        if not w:
            return None
        tia = w.get("tia") or {}
        common = dict(
            key="what-if",
            name=f"Hypothetical {w['kind'].replace('_', ' ').upper()}",
            valid_from=date.min,
            exporter=p.PartyRef(facts.exporter.name, facts.exporter.country, facts.exporter.id),
            importer=p.PartyRef(facts.importer.name, facts.importer.country, facts.importer.id),
            tia_on=tia.get("on"),
            tia_outcome=tia.get("outcome"),
            categories=frozenset(w.get("categories") or ()),
        )
        if w["kind"] == p.KIND_SCC:
            return p.SCC(**common, module=w["module"])
        if w["kind"] == p.KIND_UK_ADDENDUM:
            return p.UKAddendum(**common, module=w["module"])
        return p.IDTA(**common)


class PartySerializer(serializers.ModelSerializer):
    country = serializers.SlugRelatedField(slug_field="code", queryset=Country.objects.all())

    class Meta:
        model = Party
        fields = ["id", "name", "country", "role", "certifications", "hints"]


class MechanismSerializer(serializers.ModelSerializer):
    from_jurisdiction = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    to_country = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    to_jurisdiction = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    categories = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)

    class Meta:
        model = Mechanism
        fields = [
            "id", "kind", "key", "name", "reference", "status", "valid_from", "ends_on",
            "review_on", "source", "verified", "from_jurisdiction", "to_country",
            "to_jurisdiction", "to_organisation", "scope", "partial", "requires_certification",
            "exporter", "importer", "module", "scc_decision", "tia_on", "tia_outcome",
            "tia_valid_until", "group", "bcr_type", "lead_authority", "categories",
        ]  # fmt: skip


class TransferRequestSerializer(serializers.ModelSerializer):
    source_region = serializers.SlugRelatedField(slug_field="slug", queryset=Region.objects.all())
    destination_region = serializers.SlugRelatedField(
        slug_field="slug", queryset=Region.objects.all(), required=False, allow_null=True
    )
    destination_country = serializers.SlugRelatedField(
        slug_field="code", queryset=Country.objects.all(), required=False
    )
    data_categories = serializers.SlugRelatedField(
        slug_field="key", many=True, queryset=DataCategory.objects.all()
    )
    exporter_role = serializers.ChoiceField(choices=ROLE_CHOICES, required=False)
    importer_role = serializers.ChoiceField(choices=ROLE_CHOICES, required=False)
    frequency = serializers.ChoiceField(choices=FREQUENCY_CHOICES)
    derogation = serializers.ChoiceField(
        choices=DEROGATION_CHOICES, required=False, allow_blank=True
    )
    chosen_mechanism = serializers.SlugRelatedField(
        slug_field="key", queryset=Mechanism.objects.all(), required=False, allow_null=True
    )
    requested_by = serializers.StringRelatedField()
    decided_by = serializers.StringRelatedField(allow_null=True)
    policy_mechanism = serializers.SlugRelatedField(
        slug_field="key", read_only=True, allow_null=True
    )
    # Blank until the engine has a basis (or when there is none): the schema says so.
    policy_basis = serializers.ChoiceField(choices=BASIS_CHOICES, allow_blank=True, read_only=True)
    submit = serializers.BooleanField(write_only=True, required=False, default=False)

    class Meta:
        model = TransferRequest
        fields = [
            "id", "status", "source_region", "destination_region", "destination_country",
            "exporter", "exporter_role", "importer", "importer_role", "data_categories",
            "data_subjects", "purpose", "frequency", "volume_estimate", "derogation",
            "chosen_mechanism", "requested_expiry", "requested_by", "created_at",
            "submitted_at", "is_transfer", "policy_allowed", "policy_basis", "policy_mechanism",
            "policy_findings", "evaluated_at", "has_special_categories", "decided_by",
            "decided_at", "conditions", "confirmed_conditions", "rejection_reason", "expires_on",
            "ended_at", "end_reason", "importer_scope", "exporter_scope", "hr_data",
            "art9_condition", "art10_authorisation", "tia_on", "tia_outcome",
            "derogation_facts", "onward_transfers", "submit",
        ]  # fmt: skip
        read_only_fields = [
            "status", "requested_by", "created_at", "submitted_at", "is_transfer",
            "policy_allowed", "policy_basis", "policy_mechanism", "policy_findings",
            "evaluated_at", "has_special_categories", "decided_by", "decided_at", "conditions",
            "confirmed_conditions", "rejection_reason", "expires_on", "ended_at", "end_reason",
        ]  # fmt: skip


class ApproveSerializer(serializers.Serializer):
    confirmed = ConfirmedSerializerField()
    conditions = serializers.CharField(required=False, allow_blank=True, default="")
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)


class ReinstateSerializer(serializers.Serializer):
    confirmed = ConfirmedSerializerField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class TransferRecordSerializer(serializers.ModelSerializer):
    source_region = serializers.SlugRelatedField(slug_field="slug", queryset=Region.objects.all())
    destination_country = serializers.SlugRelatedField(
        slug_field="code", queryset=Country.objects.all()
    )
    destination_region = serializers.SlugRelatedField(
        slug_field="slug", queryset=Region.objects.all(), required=False, allow_null=True
    )
    categories = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    legal_basis = serializers.ChoiceField(choices=BASIS_CHOICES, allow_blank=True, read_only=True)

    class Meta:
        model = TransferRecord
        fields = [
            "id", "request", "source_region", "destination_country", "destination_region",
            "exporter_name", "importer_name", "categories", "volume", "executed_at",
            "legal_basis", "reported_by", "idempotency_key", "violation", "violation_reason",
            "recorded_at",
        ]  # fmt: skip
        read_only_fields = ["legal_basis", "reported_by", "violation", "violation_reason"]
        # No uniqueness check here: the service answers a repeated key with the region's
        # record after it checked the person's access (a check here would say, to anyone,
        # whether a key exists in a region they cannot see).
        validators = []

    def validate_request(self, value):
        """A request the person cannot see answers as one that does not exist."""
        user = self.context["request"].user
        if value is not None and not visible_requests(user).filter(pk=value.pk).exists():
            raise serializers.ValidationError(f'Invalid pk "{value.pk}" - object does not exist.')
        return value

    def validate_categories(self, value):
        known = set(DataCategory.objects.filter(key__in=value).values_list("key", flat=True))
        unknown = [k for k in value if k not in known]
        if unknown:
            raise serializers.ValidationError(f"Unknown data categories: {', '.join(unknown)}.")
        return value
