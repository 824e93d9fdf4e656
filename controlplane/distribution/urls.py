from django.urls import path

from controlplane.distribution import views

app_name = "distribution"
urlpatterns = [
    path("", views.agent_list, name="agents"),
    path("enroll/", views.agent_enroll, name="enroll"),
    path("<uuid:pk>/", views.agent_detail, name="agent"),
    path("<uuid:pk>/rotate/", views.agent_rotate, name="rotate"),
    path("<uuid:pk>/revoke/", views.agent_revoke, name="revoke"),
]
