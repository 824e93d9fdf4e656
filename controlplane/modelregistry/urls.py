from django.urls import path

from controlplane.modelregistry import views

app_name = "modelregistry"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.model_create, name="model_create"),
    path("deployments/", views.deployment_queue, name="queue"),
    path("deployments/<int:pk>/", views.deployment_detail, name="deployment"),
    path("deployments/<int:pk>/decide/", views.deployment_decide, name="decide"),
    path("deployments/<int:pk>/retire/", views.deployment_retire, name="retire"),
    path("<str:name>/", views.model_detail, name="model"),
    path("<str:name>/versions/new/", views.version_create, name="version_create"),
    path("<str:name>/versions/new/check/", views.version_check, name="version_check"),
    path("<str:name>/versions/<str:version>/", views.version_detail, name="version"),
    path("<str:name>/versions/<str:version>/lineage/", views.version_lineage, name="lineage"),
    path(
        "<str:name>/versions/<str:version>/request/",
        views.deployment_request,
        name="request",
    ),
]
