from django.urls import path

from controlplane.metrics import views

app_name = "metrics"
urlpatterns = [
    path("", views.index, name="index"),
    path("regions/<slug:slug>/", views.region_metrics, name="region"),
    path("versions/<str:version>/", views.version_metrics, name="version"),
    path("refusals/", views.refusals, name="refusals"),
]
