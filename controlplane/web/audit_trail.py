"""The audit trail page.

It lives in the web layer, not in ``controlplane.audit``: the audit app records events for every
other app and so imports none of them, while this page narrows what it shows through the
permission choke point, which knows regions.
"""

from datetime import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from controlplane.audit.models import ActorKind, AuditEvent
from controlplane.permissions import Role, has_role, regions_for, sees_every_region

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


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, label="Actor")
    actor_kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *ActorKind.choices])
    action = forms.CharField(
        required=False, label="Action", help_text="e.g. region. or transfer.approved"
    )
    object = forms.CharField(required=False, label="Object")
    since = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


def filter_events(queryset, data: dict):
    if data.get("actor"):
        queryset = queryset.filter(actor_label__icontains=data["actor"])
    if data.get("actor_kind"):
        queryset = queryset.filter(actor_kind=data["actor_kind"])
    if data.get("action"):
        queryset = queryset.filter(action__startswith=data["action"])
    if data.get("object"):
        queryset = queryset.filter(object_repr__icontains=data["object"])
    if isinstance(data.get("since"), datetime):
        queryset = queryset.filter(occurred_at__gte=data["since"])
    if isinstance(data.get("until"), datetime):
        queryset = queryset.filter(occurred_at__lte=data["until"])
    return queryset


def event_list(request):
    """The audit trail, scoped like everything else. Open to DPOs, auditors and administrators."""
    if not (request.user.is_superuser or has_role(request.user, Role.AUDITOR, Role.DPO)):
        raise PermissionDenied("The audit trail is open to DPOs and auditors.")
    form = AuditFilterForm(request.GET or None)
    events = visible_events(request.user)
    if form.is_valid():
        events = filter_events(events, form.cleaned_data)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = (
        "audit/_event_rows.html" if request.headers.get("HX-Request") else "audit/event_list.html"
    )
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()})
