from django.urls import path
from rest_framework.routers import DefaultRouter

from regions.api import views

router = DefaultRouter(trailing_slash=True)
router.register("regions", views.RegionViewSet, basename="region")
router.register("data-stores", views.DataStoreViewSet, basename="datastore")
router.register("key-references", views.KeyReferenceViewSet, basename="keyreference")
router.register("inference-endpoints", views.InferenceEndpointViewSet, basename="inferenceendpoint")
router.register("residency-rules", views.ResidencyRuleViewSet, basename="residencyrule")
router.register("jurisdictions", views.JurisdictionViewSet, basename="jurisdiction")
router.register("countries", views.CountryViewSet, basename="country")
router.register("data-categories", views.DataCategoryViewSet, basename="datacategory")

urlpatterns = [
    path("regions/iac.zip", views.AllRegionsIacZip.as_view(), name="regions-iac-zip"),
    *router.urls,
]
