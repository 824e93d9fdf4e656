"""The routing matrix page: user jurisdictions x regions, the reason in each cell."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from controlplane.routing import selectors
from controlplane.routing.filtersets import EndpointFilterSet, UserJurisdictionFilterSet
from controlplane.web.lists import list_page


def _rows(table, regions, codes=None):
    """One row per user jurisdiction (of ``codes``, when the filters chose some); jurisdictions
    whose cells carry the same footing are shown as one row (the 200-odd jurisdictions with no
    regime modelled and no route)."""
    groups: dict[tuple, dict] = {}
    for code in sorted(table.cells):
        if codes is not None and code not in codes:
            continue
        row = table.cells[code]
        cells = [row[r.slug] for r in regions]
        routes = table.routes[code]
        signature = (
            tuple((c.basis, c.code, c.mechanism, c.transfer) for c in cells),
            tuple(r["endpoint"] for r in routes),
        )
        group = groups.get(signature)
        if group is None:
            groups[signature] = {
                "jurisdictions": [code],
                "names": [table.jurisdiction_names.get(code, code)],
                "cells": cells,
                "routes": routes,
                "gap": not routes,
            }
        else:
            group["jurisdictions"].append(code)
            group["names"].append(table.jurisdiction_names.get(code, code))
    return sorted(groups.values(), key=lambda g: (len(g["jurisdictions"]) > 3, g["jurisdictions"]))


@require_safe
def matrix(request):
    table = selectors.routing_table()
    visible = selectors.visible_region_slugs(request.user)
    regions = [r for r in table.regions if visible is None or r.slug in visible]
    scoped = selectors.scoped(table.as_dict(), visible)
    filters = UserJurisdictionFilterSet.for_table(request, table, request.GET)
    error = "" if filters.is_valid() else filters.error_text()
    codes = set() if error else (filters.codes() if filters.narrows() else None)
    rows = _rows(table, regions, codes)
    for row in rows:
        row["routes"] = [r for r in row["routes"] if visible is None or r["region"] in visible]
        row["routes_elsewhere"] = bool(
            visible is not None and len(row["routes"]) < len(table.routes[row["jurisdictions"][0]])
        )
    return render(
        request,
        "routing/matrix.html",
        {
            "table": table,
            "regions": regions,
            "rows": rows,
            "gap_count": len(table.gaps()),
            "shown": sum(len(r["jurisdictions"]) for r in rows),
            "filters": filters,
            "filter_error": error,
            "unroutable": scoped["unroutable"],
            "scope": scoped["scope"],
        },
        status=400 if error else 200,
    )


@require_safe
def endpoints(request):
    """The inference endpoints of the person's regions, with what routing knows of each."""
    return list_page(
        request, "routing/endpoint_list.html", EndpointFilterSet, selectors.endpoints(request.user)
    )


# --------------------------------------------------------------------------------------------
# The revocation drill
# --------------------------------------------------------------------------------------------


def _visible_impact(user, impact) -> dict:
    """The impact narrowed to what ``user`` may see, with counts of the rest (never hidden
    silently, never named)."""
    from controlplane.permissions import sees_every_region

    data = impact.as_dict()
    if sees_every_region(user):
        return {**data, "hidden": {}}
    visible = selectors.visible_region_slugs(user) or set()
    hidden = {}

    def keep(key, rows, test):
        shown = [r for r in rows if test(r)]
        hidden[key] = len(rows) - len(shown)
        data[key] = shown

    keep(
        "suspended",
        data["suspended"],
        lambda t: t["source_region"] in visible or t["destination"] in visible,
    )
    keep(
        "rebased",
        data["rebased"],
        lambda t: t["source_region"] in visible or t["destination"] in visible,
    )
    keep("withdrawn", data["withdrawn"], lambda d: d["region"] in visible)
    keep("bundles", data["bundles"], lambda b: b["region"] in visible)
    keep("agents", data["agents"], lambda a: a["region"] in visible)
    data["hidden"] = hidden
    return data


@require_http_methods(["GET", "POST"])
def drill(request, pk):
    """``GET``: the form. ``POST action=simulate``: the impact, changing nothing, and a
    confirmation that repeats it. ``POST action=end``: end it, exactly as confirmed."""
    from django import forms as django_forms
    from django.contrib import messages
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.shortcuts import get_object_or_404, redirect

    from controlplane.errors import ConflictError, DomainError, NotAllowed
    from controlplane.routing import drill as drill_service
    from controlplane.transfers import services as transfer_services
    from controlplane.transfers.forms import MechanismEndForm
    from controlplane.transfers.models import Mechanism

    m = get_object_or_404(Mechanism.objects.select_related("exporter__country"), pk=pk)
    may_end = m.status == "in_force" and transfer_services.may_end_mechanism(request.user, m)
    context = {"m": m, "may_end": may_end}
    if request.method != "POST":
        context["form"] = MechanismEndForm()
        return render(request, "routing/drill.html", context)
    if not may_end:
        raise PermissionDenied(
            "Only a DPO of the regions that rely on it, or of the regions under its regime, "
            "rehearses or ends this mechanism."
        )
    form = MechanismEndForm(request.POST)
    if not form.is_valid():
        context["form"] = form
        return render(request, "routing/drill.html", context, status=400)
    data = form.cleaned_data
    arguments = dict(
        mechanism=m,
        by=request.user,
        status=data["status"],
        reason=data["reason"],
        ends_on=data["ends_on"],
        backdated_because=data["backdated_because"],
    )
    try:
        if request.POST.get("action") == "end":
            impact = drill_service.end_as_simulated(
                fingerprint=request.POST.get("fingerprint", ""), **arguments
            )
            messages.success(
                request,
                f"{m.name} ended as rehearsed: {len(impact.suspended)} transfer(s) suspended, "
                f"{len(impact.withdrawn)} deployment(s) withdrawn, {len(impact.routes)} user "
                f"jurisdiction(s) re-routed, {len(impact.bundles)} bundle(s) republished.",
            )
            return redirect(m)
        impact = drill_service.simulate_ending(**arguments)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except ConflictError as error:
        messages.error(request, str(error))
        impact = drill_service.simulate_ending(**arguments)
    except (DomainError, ValidationError) as error:
        for field, errors in getattr(error, "message_dict", {"__all__": [str(error)]}).items():
            form.add_error(field if field in form.fields else None, errors)
        context["form"] = form
        return render(request, "routing/drill.html", context, status=400)
    confirm = MechanismEndForm(initial=data)
    for f in confirm.fields.values():
        f.widget = django_forms.HiddenInput()
    context.update(
        {
            "form": form,
            "confirm": confirm,
            "data": data,
            "impact": _visible_impact(request.user, impact),
            "fingerprint": impact.fingerprint,
        }
    )
    return render(request, "routing/drill.html", context)
