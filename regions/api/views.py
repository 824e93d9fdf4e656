from rest_framework import viewsets

from controlplane.api.permissions import EstateEditors
from controlplane.permissions import restrict
from regions.api import serializers
from regions.filtersets import RegionFilterSet
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
from regions.services import estate_object_delete, estate_object_save


class AuditedEstateViewSet(viewsets.ModelViewSet):
    """CRUD over one estate model, scoped by restrict() and written through the audited service."""

    permission_classes = [EstateEditors]
    region_filter = "region__slug"

    def get_queryset(self):
        queryset = restrict(self.base_queryset, self.request.user, "view")
        region = self.request.query_params.get("region")
        if region:
            queryset = queryset.filter(**{self.region_filter: region})
        return queryset

    def perform_create(self, serializer):
        serializer.instance = estate_object_save(
            instance=serializer.Meta.model(**serializer.validated_data), by=self.request.user
        )

    def perform_update(self, serializer):
        instance = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(instance, field, value)
        estate_object_save(instance=instance, by=self.request.user)

    def perform_destroy(self, instance):
        estate_object_delete(instance=instance, by=self.request.user)


class RegionViewSet(AuditedEstateViewSet):
    base_queryset = Region.objects.select_related("jurisdiction", "country")
    serializer_class = serializers.RegionSerializer
    filterset_class = RegionFilterSet
    lookup_field = "slug"
    region_filter = "slug"


class DataStoreViewSet(AuditedEstateViewSet):
    base_queryset = DataStore.objects.select_related("region")
    serializer_class = serializers.DataStoreSerializer


class KeyReferenceViewSet(AuditedEstateViewSet):
    base_queryset = KeyReference.objects.select_related("region")
    serializer_class = serializers.KeyReferenceSerializer


class InferenceEndpointViewSet(AuditedEstateViewSet):
    base_queryset = InferenceEndpoint.objects.select_related("region")
    serializer_class = serializers.InferenceEndpointSerializer


class ResidencyRuleViewSet(AuditedEstateViewSet):
    base_queryset = ResidencyRule.objects.select_related(
        "region", "subject_country", "data_category", "home_jurisdiction"
    )
    serializer_class = serializers.ResidencyRuleSerializer


class JurisdictionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Jurisdiction.objects.all()
    serializer_class = serializers.JurisdictionSerializer
    lookup_field = "code"


class CountryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Country.objects.select_related("jurisdiction")
    serializer_class = serializers.CountrySerializer
    lookup_field = "code"


class DataCategoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = DataCategory.objects.select_related("parent")
    serializer_class = serializers.DataCategorySerializer
    lookup_field = "key"
    lookup_value_regex = r"[a-z0-9_.]+"
