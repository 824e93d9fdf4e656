from controlplane.notifications.models import Notice


def unread_notices(request):
    """The unread count for the navigation (one query per page)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    unread = getattr(request, "unread_notices", None)  # the dashboard's panel read it already
    if unread is None:
        unread = Notice.objects.filter(recipient=user, read_at__isnull=True).count()
    return {"unread_notices": unread}
