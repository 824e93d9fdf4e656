"""The Agents pages: who runs where, desired against applied, enroll / rotate / revoke."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from controlplane.distribution import selectors, services
from controlplane.distribution.filtersets import AgentFilterSet
from controlplane.distribution.forms import EnrollForm
from controlplane.distribution.models import ConfigBundle, Delivery
from controlplane.errors import DomainError
from controlplane.permissions import regions_for, restrict
from controlplane.web.lists import run_list
from regions.models import Agent


def _may_manage(user) -> bool:
    return user.has_perm("regions.add_agent")


@require_safe
def agent_list(request):
    visible = restrict(Agent.objects.all(), request.user, "view")
    agents = selectors.agents_with_drift(visible)
    found = run_list(
        request,
        AgentFilterSet,
        visible.filter(revoked_at__isnull=True).select_related("region").order_by("region__slug"),
    )
    bundles = restrict(ConfigBundle.objects.select_related("region"), request.user, "view")
    return render(
        request,
        "distribution/agent_list.html",
        {
            "list": found,
            "page": found.page,
            "agents": selectors.with_drift(list(found.rows)),
            "counts": selectors.drift_counts(agents),
            "uncovered": selectors.uncovered_regions(
                list(regions_for(request.user, "view").order_by("slug")), agents
            ),
            "expiring": [a for a in agents if a.trust_state in ("expired", "expiring")],
            "recent_bundles": bundles.order_by("-created_at")[:10],
            "may_manage": _may_manage(request.user),
        },
    )


@require_safe
def agent_detail(request, pk):
    agent = get_object_or_404(restrict(Agent.objects.select_related("region"), request.user), pk=pk)
    live = selectors.agents_with_drift(Agent.objects.filter(pk=agent.pk))
    deliveries = Delivery.objects.filter(agent=agent).select_related("bundle")[:20]
    return render(
        request,
        "distribution/agent_detail.html",
        {
            "agent": live[0] if live else agent,
            "revoked": agent.revoked_at is not None,
            "deliveries": deliveries,
            "may_manage": _may_manage(request.user),
        },
    )


def _token_page(request, agent, token, verb):
    return render(
        request, "distribution/agent_token.html", {"agent": agent, "token": token, "verb": verb}
    )


@require_http_methods(["GET", "POST"])
def agent_enroll(request):
    if not _may_manage(request.user):
        raise PermissionDenied("You may not enroll agents.")
    form = EnrollForm(request.POST or None, regions=regions_for(request.user, "view"))
    if request.method == "POST" and form.is_valid():
        try:
            agent, token = services.agent_enroll(by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            return _token_page(request, agent, token, "enrolled")
    return render(request, "distribution/agent_enroll.html", {"form": form})


def _managed_agent(request, pk):
    if not _may_manage(request.user):
        raise PermissionDenied("You may not manage agents.")
    return get_object_or_404(restrict(Agent.objects.select_related("region"), request.user), pk=pk)


@require_POST
def agent_rotate(request, pk):
    agent = _managed_agent(request, pk)
    try:
        token = services.agent_rotate_token(agent=agent, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("distribution:agent", pk=agent.pk)
    return _token_page(request, agent, token, "given a new token")


@require_POST
def agent_revoke(request, pk):
    agent = _managed_agent(request, pk)
    services.agent_revoke(agent=agent, by=request.user)
    messages.success(request, f"Agent {agent} is revoked; its token no longer opens anything.")
    return redirect("distribution:agents")
