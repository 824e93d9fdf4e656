from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from controlplane.api import parsers
from controlplane.api.schema import SchemaView
from controlplane.api.tokens import ObtainToken
from controlplane.distribution.api.agent_urls import tuf_urlpatterns
from controlplane.web import views as web_views

api_v1 = [
    # Our parsers hold the size and depth limits of every body.
    path("auth/token/", ObtainToken.as_view(parser_classes=parsers.DEFAULT), name="api-token"),
    path("", include("regions.api.urls")),
    path("", include("controlplane.distribution.api.urls")),
    path("transfers/", include("controlplane.transfers.api.urls")),
    path("", include("controlplane.modelregistry.api.urls")),
    path("routing/", include("controlplane.routing.api.urls")),
    path("", include("controlplane.metrics.api.urls")),
    path("", include("controlplane.reports.api.urls")),
]

handler400 = "controlplane.web.views.bad_request"
handler403 = "controlplane.web.views.permission_denied"
handler404 = "controlplane.web.views.page_not_found"
handler500 = "controlplane.web.views.server_error"

urlpatterns = [
    # First: agents poll tuf/timestamp.json often, so it resolves before everything else.
    *tuf_urlpatterns,
    path("api/v1/agent/", include("controlplane.distribution.api.agent_urls")),
    path("api/v1/agent/", include("controlplane.metrics.api.agent_urls")),
    path("", web_views.dashboard, name="dashboard"),
    path("favicon.ico", web_views.favicon, name="favicon"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("regions/", include("regions.urls")),
    path("audit/", include("controlplane.web.audit_urls")),
    path("agents/", include("controlplane.distribution.urls")),
    path("transfers/", include("controlplane.transfers.urls")),
    path("models/", include("controlplane.modelregistry.urls")),
    path("inbox/", include("controlplane.notifications.urls")),
    path("routing/", include("controlplane.routing.urls")),
    path("metrics/", include("controlplane.metrics.urls")),
    path("reports/", include("controlplane.reports.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
