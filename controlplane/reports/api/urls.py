from django.urls import path

from controlplane.reports.api import views

urlpatterns = [
    path("reports/", views.ReportList.as_view(), name="report-list"),
    path("reports/<uuid:pk>/", views.ReportDetail.as_view(), name="report-detail"),
    path("reports/<uuid:pk>/download", views.ReportDownload.as_view(), name="report-download"),
    path("exports/<slug:dataset>.<str:fmt>", views.ExportView.as_view(), name="export"),
]
