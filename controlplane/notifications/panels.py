"""The inbox's section on the dashboard: unread notices first."""

from controlplane.notifications.models import Notice
from controlplane.web.panels import Panel


def inbox_panel(request):
    latest = list(
        Notice.objects.filter(recipient=request.user, read_at__isnull=True).order_by(
            "-created_at", "-pk"
        )[:5]
    )
    if not latest:
        return None
    return Panel(
        title="New for you",
        template="notifications/_dashboard_panel.html",
        context={"latest": latest},
        order=1,
    )
