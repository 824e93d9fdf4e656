from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from controlplane.decisions import ConfirmedSerializerField
from controlplane.modelregistry.models import (
    DeploymentApproval,
    MLModel,
    ModelVersion,
    TrainingMode,
)
from regions.models import DataCategory, Jurisdiction, Region


class MLModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = MLModel
        fields = ["name", "purpose", "owner_team", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"name": {"validators": []}}  # uniqueness: the service's full_clean


class ModelVersionSerializer(serializers.ModelSerializer):
    """A version as the API shows it, with its lineage facts and artifact copies."""

    model = serializers.CharField(source="model.name", read_only=True)
    training_jurisdictions = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    data_categories = serializers.SlugRelatedField(slug_field="key", many=True, read_only=True)
    participating_regions = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    base_version = serializers.SerializerMethodField()
    artifacts = serializers.SerializerMethodField()
    frozen = serializers.BooleanField(source="is_frozen", read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "model",
            "version",
            "digest",
            "framework",
            "metrics",
            "notes",
            "training_mode",
            "contains_personal_data",
            "training_jurisdictions",
            "data_categories",
            "participating_regions",
            "base_version",
            "artifacts",
            "registered_at",
            "frozen",
            "frozen_at",
        ]

    @extend_schema_field({"type": "object", "nullable": True})
    def get_base_version(self, obj) -> dict | None:
        base = obj.base_version
        return {"model": base.model.name, "version": base.version} if base else None

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_artifacts(self, obj) -> dict:
        return {a.region.slug: a.uri for a in obj.artifacts.all()}


class VersionRegistrationSerializer(serializers.Serializer):
    """What an ML pipeline posts to register a version."""

    version = serializers.CharField(max_length=40)
    digest = serializers.CharField(max_length=71)
    framework = serializers.CharField(max_length=60)
    metrics = serializers.DictField(child=serializers.FloatField(), required=False, default=dict)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    training_mode = serializers.ChoiceField(choices=TrainingMode.choices)
    contains_personal_data = serializers.BooleanField()
    training_jurisdictions = serializers.SlugRelatedField(
        slug_field="code", many=True, queryset=Jurisdiction.objects.all(), required=False
    )
    data_categories = serializers.SlugRelatedField(
        slug_field="key", many=True, queryset=DataCategory.objects.all(), required=False
    )
    participating_regions = serializers.SlugRelatedField(
        slug_field="slug", many=True, queryset=Region.objects.all(), required=False
    )
    base_model = serializers.CharField(
        required=False, help_text="The base version's model; defaults to this model."
    )
    base_version = serializers.CharField(required=False)
    artifacts = serializers.DictField(
        child=serializers.CharField(max_length=500),
        required=False,
        default=dict,
        help_text="Region slug -> URI of the copy stored there.",
    )

    def validate_artifacts(self, value):
        regions = {r.slug: r for r in Region.objects.filter(slug__in=list(value))}
        unknown = sorted(set(value) - set(regions))
        if unknown:
            raise serializers.ValidationError(f"Unknown regions: {', '.join(unknown)}.")
        return {regions[slug]: uri for slug, uri in value.items()}

    def validate(self, attrs):
        base_label = attrs.pop("base_version", None)
        base_model = attrs.pop("base_model", None) or self.context["model"].name
        if base_label:
            base = (
                ModelVersion.objects.filter(model__name=base_model, version=base_label)
                .select_related("model")
                .first()
            )
            if base is None:
                raise serializers.ValidationError(
                    {"base_version": f"No version {base_label} of {base_model}."}
                )
            attrs["base_version"] = base
        return attrs


class DeploymentSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="version.model.name", read_only=True)
    version = serializers.CharField(source="version.version", read_only=True)
    digest = serializers.CharField(source="version.digest", read_only=True)
    region = serializers.CharField(source="region.slug", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, allow_null=True, default=None
    )
    findings = serializers.JSONField(source="policy_findings", read_only=True)
    allowed = serializers.BooleanField(source="policy_allowed", read_only=True)

    class Meta:
        model = DeploymentApproval
        fields = [
            "id",
            "model",
            "version",
            "digest",
            "region",
            "status",
            "is_desired",
            "allowed",
            "findings",
            "justification",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
            "confirmed",
            "retired_at",
            "retire_reason",
        ]
        read_only_fields = fields


class DeploymentRequestSerializer(serializers.Serializer):
    region = serializers.SlugRelatedField(slug_field="slug", queryset=Region.objects.all())
    justification = serializers.CharField(required=False, allow_blank=True, default="")


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "reject"])
    note = serializers.CharField(required=False, allow_blank=True, default="")
    confirmed = ConfirmedSerializerField()


class RetireSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
