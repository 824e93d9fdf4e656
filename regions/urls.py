from django.urls import path

from regions import views

app_name = "regions"
urlpatterns = [
    path("", views.region_list, name="list"),
    path("iac.zip", views.all_iac_zip, name="iac-zip-all"),
    path("<slug:slug>/", views.region_detail, name="detail"),
    path("<slug:slug>/iac.zip", views.region_iac_zip, name="iac-zip"),
    path("<slug:slug>/iac/<path:name>", views.region_iac_file, name="iac-file"),
]
