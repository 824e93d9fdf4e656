from django.shortcuts import render

from controlplane.permissions import regions_for, role_names
from controlplane.web.panels import dashboard_panels, render_panels


def dashboard(request):
    regions = regions_for(request.user, "view").select_related("jurisdiction")
    return render(
        request,
        "web/dashboard.html",
        {
            "regions": regions,
            "roles": sorted(role_names(request.user)),
            "panels": render_panels(dashboard_panels, request),
        },
    )
