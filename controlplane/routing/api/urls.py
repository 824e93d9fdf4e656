from django.urls import path

from controlplane.api.routers import DefaultRouter
from controlplane.routing.api import views

router = DefaultRouter(trailing_slash=True)
router.register("endpoints", views.EndpointRoutingViewSet, basename="routing-endpoint")

urlpatterns = [
    path("resolve", views.ResolveView.as_view(), name="routing-resolve"),
    path("table", views.TableView.as_view(), name="routing-table"),
    path("exports/<str:name>", views.ExportView.as_view(), name="routing-export"),
    *router.urls,
]
