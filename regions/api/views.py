from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from controlplane.api.permissions import EstateEditors
from controlplane.permissions import restrict
from regions import iac
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
from regions.selectors import visible_iac_facts
from regions.services import estate_object_delete, estate_object_save
from regions.views import iac_response, iac_zip_response


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

    def _facts(self, slug) -> iac.RegionFacts:
        facts = visible_iac_facts(self.request.user, slug)
        if not facts:
            raise Http404("No such region.")
        return facts[0]

    @extend_schema(
        operation_id="regions_iac_files",
        summary="The region's infrastructure-as-code files",
        description="Names and URLs of the AWS SCP or Azure Policy definition, the Terraform "
        "module and its terraform.tfvars.json, and a zip of them.",
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["get"], url_path="iac")
    def iac(self, request, slug=None, format=None):  # noqa: A002 - DRF's name
        facts = self._facts(slug)
        return Response(
            {
                "region": slug,
                "files": {
                    name: reverse("region-iac-file", args=[slug, name], request=request)
                    for name in iac.documents(facts)
                },
                "zip": reverse("region-iac-zip", args=[slug], request=request),
            }
        )

    @extend_schema(
        operation_id="regions_iac_file",
        summary="One infrastructure-as-code file",
        responses={200: OpenApiTypes.STR},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"iac/(?P<name>[A-Za-z0-9_./-]+)",
        url_name="iac-file",
    )
    def iac_file(self, request, slug=None, name=None, format=None):  # noqa: A002 - DRF's name
        # The router's format-suffix patterns split "terraform.tfvars.json" into name + format.
        return iac_response(self._facts(slug), f"{name}.{format}" if format else name)

    @extend_schema(
        operation_id="regions_iac_zip",
        summary="The region's infrastructure as code, zipped",
        responses={200: OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path="iac.zip", url_name="iac-zip")
    def iac_zip(self, request, slug=None, format=None):  # noqa: A002 - DRF's name
        return iac_zip_response([self._facts(slug)], f"{slug}-iac.zip")


class RegionIacFileByName(APIView):
    """One infrastructure-as-code file by its own name, without the router's trailing slash
    (``/api/v1/regions/uk-south/iac/terraform/terraform.tfvars.json``)."""

    @extend_schema(
        operation_id="regions_iac_file_by_name",
        summary="One infrastructure-as-code file, by its name",
        responses={200: OpenApiTypes.STR},
    )
    def get(self, request, slug, name):
        facts = visible_iac_facts(request.user, slug)
        if not facts:
            raise Http404("No such region.")
        return iac_response(facts[0], name)


class AllRegionsIacZip(APIView):
    """Every region the caller may view, in one zip."""

    @extend_schema(
        operation_id="regions_iac_zip_all",
        summary="Infrastructure as code for every region, zipped",
        responses={200: OpenApiTypes.BINARY},
    )
    def get(self, request):
        return iac_zip_response(visible_iac_facts(request.user), "regions-iac.zip")


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
