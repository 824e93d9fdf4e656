from django.urls import path

from controlplane.transfers import views

app_name = "transfers"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.create, name="create"),
    path("new/check/", views.check, name="check"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/revoke/", views.revoke, name="revoke"),
    path("<int:pk>/reinstate/", views.reinstate, name="reinstate"),
    path("mechanisms/", views.mechanisms, name="mechanisms"),
    path("mechanisms/<int:pk>/", views.mechanism_detail, name="mechanism"),
    path("mechanisms/<int:pk>/end/", views.mechanism_end, name="mechanism_end"),
    path("records/", views.records, name="records"),
]
