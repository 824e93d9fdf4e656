from django.urls import path

from controlplane.api.routers import SimpleRouter
from controlplane.transfers.api import views

router = SimpleRouter()
router.register("requests", views.TransferRequestViewSet, basename="transfer-request")
router.register("mechanisms", views.MechanismViewSet, basename="transfer-mechanism")
router.register("parties", views.PartyViewSet, basename="transfer-party")
router.register("records", views.TransferRecordViewSet, basename="transfer-record")

urlpatterns = [
    path("evaluate", views.EvaluateView.as_view(), name="transfers-evaluate"),
    *router.urls,
]
