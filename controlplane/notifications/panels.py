"""The inbox's section on the dashboard: unread notices first."""

from django.db.models import Count, Window

from controlplane.notifications.models import Notice
from controlplane.web.panels import Panel


def inbox_panel(request):
    latest = list(
        Notice.objects.filter(recipient=request.user, read_at__isnull=True)
        .annotate(unread=Window(Count("pk")))
        .order_by("-created_at", "-pk")[:5]
    )
    # The navigation's unread count, read with them (context_processors.unread_notices).
    request.unread_notices = latest[0].unread if latest else 0
    if not latest:
        return None
    return Panel(
        title="New for you",
        template="notifications/_dashboard_panel.html",
        context={"latest": latest},
        order=1,
    )
