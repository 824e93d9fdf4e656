from django.urls import path

from controlplane.routing import views

app_name = "routing"
urlpatterns = [
    path("", views.matrix, name="matrix"),
    path("drill/<int:pk>/", views.drill, name="drill"),
]
