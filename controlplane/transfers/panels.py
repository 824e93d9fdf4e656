"""The transfer register's section on the dashboard."""

from controlplane.permissions import Role, has_role, sees_every_region
from controlplane.transfers.selectors import dashboard_summary
from controlplane.web.panels import Panel, kept_per_person


@kept_per_person(
    10,
    changed_by=(
        "transfers.TransferRequest",
        "transfers.TransferRecord",
        "transfers.Mechanism",
        "guardian.UserObjectPermission",
        "guardian.GroupObjectPermission",
    ),
)
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


WAITING_FOR = {
    "draft": "you: submit it when it is complete",
    "submitted": "a DPO of the source region",
    "rejected": "you: start a new request from it, or let it rest",
    "suspended": "a DPO: the mechanism it relied on ended",
}


@kept_per_person(10, changed_by=("transfers.TransferRequest",))
def requester_panel(request):
    """A requester's own requests and what each waits for."""
    from django.db.models import Count

    from controlplane.transfers.models import TransferRequest
    from controlplane.transfers.selectors import requests_of

    user = request.user
    if not has_role(user, Role.REQUESTER, Role.ML_ENGINEER) or sees_every_region(user):
        return None
    counts = dict(
        TransferRequest.objects.filter(requested_by=user.pk)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    open_rows = list(requests_of(user).filter(status__in=list(WAITING_FOR))[:8])
    for tr in open_rows:
        tr.waiting_for = WAITING_FOR[tr.status]
    return Panel(
        title="Your transfer requests",
        template="transfers/_requester_panel.html",
        context={
            "counts": counts,
            "approved": counts.get("approved", 0) + counts.get("active", 0),
            "open": open_rows,
        },
        order=5,
    )
