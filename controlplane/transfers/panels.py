"""The transfer register's section on the dashboard."""

from controlplane.permissions import Role, has_role, sees_every_region
from controlplane.transfers.selectors import dashboard_summary
from controlplane.web.panels import Panel


def dashboard_panel(request):
    user = request.user
    if not (has_role(user, Role.DPO) or sees_every_region(user)):
        return None
    return Panel(
        title="Transfers",
        template="transfers/_dashboard_panel.html",
        context=dashboard_summary(user),
        order=10,
    )
