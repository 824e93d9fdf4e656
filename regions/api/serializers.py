from rest_framework import serializers

from controlplane.permissions import restrict
from regions.models import (
    Country,
    DataCategory,
    DataStore,
    InferenceEndpoint,
    Jurisdiction,
    KeyReference,
    Region,
    ResidencyRule,
)


class RegionScopedSlugField(serializers.SlugRelatedField):
    """A region named by slug, chosen only among the regions the caller may see."""

    def get_queryset(self):
        request = self.context["request"]
        return restrict(Region.objects.all(), request.user, "view")


class JurisdictionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Jurisdiction
        fields = ["code", "name", "law"]


class CountrySerializer(serializers.ModelSerializer):
    jurisdiction = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Country
        fields = ["code", "name", "jurisdiction"]


class DataCategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)

    class Meta:
        model = DataCategory
        fields = [
            "key",
            "name",
            "description",
            "parent",
            "is_special_category",
            "is_criminal_offence_data",
        ]


class RegionSerializer(serializers.ModelSerializer):
    jurisdiction = serializers.SlugRelatedField(
        slug_field="code", queryset=Jurisdiction.objects.all()
    )
    country = serializers.SlugRelatedField(slug_field="code", queryset=Country.objects.all())

    class Meta:
        model = Region
        fields = [
            "slug",
            "name",
            "jurisdiction",
            "country",
            "provider",
            "cloud_region",
            "description",
            "metrics_k",
            "metrics_epsilon",
        ]


class KeyReferenceSerializer(serializers.ModelSerializer):
    region = RegionScopedSlugField(slug_field="slug")

    class Meta:
        model = KeyReference
        fields = ["id", "region", "name", "uri", "key_provider"]
        read_only_fields = ["key_provider"]


class DataStoreSerializer(serializers.ModelSerializer):
    region = RegionScopedSlugField(slug_field="slug")

    class Meta:
        model = DataStore
        fields = ["id", "region", "name", "kind", "location_uri", "retention_days", "key"]


class InferenceEndpointSerializer(serializers.ModelSerializer):
    region = RegionScopedSlugField(slug_field="slug")

    class Meta:
        model = InferenceEndpoint
        fields = ["id", "region", "name", "url"]


class ResidencyRuleSerializer(serializers.ModelSerializer):
    region = RegionScopedSlugField(slug_field="slug")
    subject_country = serializers.SlugRelatedField(
        slug_field="code", queryset=Country.objects.all(), allow_null=True, required=False
    )
    data_category = serializers.SlugRelatedField(
        slug_field="key", queryset=DataCategory.objects.all(), allow_null=True, required=False
    )
    home_jurisdiction = serializers.SlugRelatedField(
        slug_field="code", queryset=Jurisdiction.objects.all()
    )

    class Meta:
        model = ResidencyRule
        fields = [
            "id",
            "region",
            "position",
            "subject_country",
            "data_category",
            "contract_tag",
            "home_jurisdiction",
            "data_store",
        ]
