"""The audit trail page.

It lives in the web layer, not in ``controlplane.audit``: the audit app records events for every
other app and so imports none of them, while this page narrows what it shows through the
permission choke point, which knows regions.
"""

from django.core.exceptions import PermissionDenied

from controlplane.audit.models import AuditEvent
from controlplane.permissions import Role, has_role
from controlplane.web.filtersets import AuditEventFilterSet
from controlplane.web.lists import list_page


def event_list(request):
    """The audit trail. Open to DPOs, auditors and administrators (it spans all regions)."""
    if not (request.user.is_superuser or has_role(request.user, Role.AUDITOR, Role.DPO)):
        raise PermissionDenied("The audit trail is open to DPOs and auditors.")
    template = (
        "audit/_event_rows.html" if request.headers.get("HX-Request") else "audit/event_list.html"
    )
    return list_page(request, template, AuditEventFilterSet, AuditEvent.objects.order_by("-sequence"))
