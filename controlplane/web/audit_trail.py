"""The audit trail page.

It lives in the web layer, not in ``controlplane.audit``: the audit app records events for every
other app and so imports none of them, while this page narrows what it shows through the
permission choke point, which knows regions.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.views.decorators.http import require_safe

from controlplane.audit.models import AuditEvent
from controlplane.permissions import Role, has_role, regions_for, sees_every_region
from controlplane.web.filtersets import AuditEventFilterSet
from controlplane.web.lists import Listing

# Region-less events a DPO reads: the shared register everyone works from (mechanisms, parties,
# jurisdictions, countries, data categories). Events about people, roles and the system (user
# changes, role grants outside a region, chain verification) are for auditors and superusers.
SHARED_REGISTER = (
    "transfers.mechanism",
    "transfers.party",
    "regions.jurisdiction",
    "regions.country",
    "regions.datacategory",
)


def visible_events(user):
    """The events ``user`` may read: everything for superusers and auditors; for everyone
    else the events of the regions they may view, plus the shared register's region-less
    events. Events recorded before events carried a region are region-less: they stay hidden
    from DPOs unless they belong to the shared register."""
    events = AuditEvent.objects.all()
    if sees_every_region(user):
        return events
    return events.filter(
        Q(region__in=regions_for(user, "view").values("slug"))
        | Q(region="", object_type__in=SHARED_REGISTER)
    )


def may_read_the_trail(user) -> None:
    """The audit trail is open to DPOs, auditors and administrators."""
    if not (user.is_superuser or has_role(user, Role.AUDITOR, Role.DPO)):
        raise PermissionDenied("The audit trail is open to DPOs and auditors.")


# The page and its exports: the events the person may read, newest first.
AUDIT_TRAIL = Listing(
    AuditEventFilterSet,
    lambda user: visible_events(user).order_by("-sequence"),
    may_read=may_read_the_trail,
)


@require_safe
def event_list(request):
    """The audit trail, scoped like everything else."""
    template = (
        "audit/_event_rows.html" if request.headers.get("HX-Request") else "audit/event_list.html"
    )
    return AUDIT_TRAIL.page(request, template)
