"""The model registry's sections on the dashboard and on each region's page."""

from controlplane.modelregistry.selectors import dashboard_summary, region_models
from controlplane.permissions import Role, has_role, sees_every_region
from controlplane.web.panels import Panel, kept_per_person


@kept_per_person(
    10,
    changed_by=(
        "modelregistry.DeploymentApproval",
        "guardian.UserObjectPermission",
        "guardian.GroupObjectPermission",
    ),
)
def dashboard_panel(request):
    user = request.user
    if not (has_role(user, Role.DPO, Role.ML_ENGINEER) or sees_every_region(user)):
        return None
    return Panel(
        title="Model deployments",
        template="modelregistry/_dashboard_panel.html",
        context=dashboard_summary(user),
        order=20,
    )


def region_panel(request, region):
    return Panel(
        title="Models in this region",
        template="modelregistry/_region_panel.html",
        context={"region": region, "approvals": region_models(request.user, region)},
        order=20,
    )
