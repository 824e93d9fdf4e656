from django.urls import path

from controlplane.routing import views

app_name = "routing"
urlpatterns = [
    path("", views.matrix, name="matrix"),
    path("endpoints/", views.endpoints, name="endpoints"),
    path("drill/<int:pk>/", views.drill, name="drill"),
]
