from django.urls import path

from controlplane.modelregistry.api import views

VERSION = "models/<str:name>/versions/<str:version>/"

urlpatterns = [
    path("models/", views.ModelList.as_view(), name="model-list"),
    path("models/<str:name>/", views.ModelDetail.as_view(), name="model-detail"),
    path("models/<str:name>/versions/", views.VersionList.as_view(), name="modelversion-list"),
    path(VERSION, views.VersionDetail.as_view(), name="modelversion-detail"),
    path(
        VERSION + "deployments/",
        views.VersionDeployments.as_view(),
        name="modelversion-deployments",
    ),
    path("deployments/", views.DeploymentList.as_view(), name="deployment-list"),
    path("deployments/<int:pk>/", views.DeploymentDetail.as_view(), name="deployment-detail"),
    path(
        "deployments/<int:pk>/decide/", views.DeploymentDecide.as_view(), name="deployment-decide"
    ),
    path(
        "deployments/<int:pk>/retire/", views.DeploymentRetire.as_view(), name="deployment-retire"
    ),
]
