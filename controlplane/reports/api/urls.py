from django.urls import path

from controlplane.reports.api import views

urlpatterns = [
    path("exports/<slug:dataset>.<str:fmt>", views.ExportView.as_view(), name="export"),
]
