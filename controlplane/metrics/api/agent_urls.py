from django.urls import path

from controlplane.metrics.api import views

urlpatterns = [
    path("metrics", views.AgentMetricsView.as_view(), name="agent-metrics"),
]
