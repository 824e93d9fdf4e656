from django.urls import path, re_path

from controlplane.api.routers import DefaultRouter
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
    # One file by its own name, as docs/infrastructure.md gives it: no trailing slash (the
    # router's route ends in one).
    re_path(
        r"^regions/(?P<slug>[-a-zA-Z0-9_]+)/iac/(?P<name>[A-Za-z0-9_./-]*[A-Za-z0-9_-])$",
        views.RegionIacFileByName.as_view(),
        name="region-iac-file-named",
    ),
    *router.urls,
]
