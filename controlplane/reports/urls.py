from django.urls import path

from controlplane.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/row/", views.row, name="row"),
    path("<uuid:pk>/download/", views.download, name="download"),
    path("<uuid:pk>/delete/", views.delete, name="delete"),
    path("export/<slug:dataset>.<str:fmt>", views.export, name="export"),
]
