from django.urls import path

from controlplane.metrics.api import views

urlpatterns = [
    path("metrics/", views.MetricSeriesList.as_view(), name="metric-list"),
]
