from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from controlplane.api.exceptions import json_refusal, refusal
from controlplane.permissions import regions_for, role_names
from controlplane.web.panels import dashboard_panels, render_panels


@require_safe
def dashboard(request):
    regions = regions_for(request.user, "view").select_related("jurisdiction")
    return render(
        request,
        "web/dashboard.html",
        {
            "regions": regions,
            "roles": sorted(role_names(request.user)),
            "panels": render_panels(dashboard_panels, request),
        },
    )


@login_not_required
@require_safe
def favicon(request):
    return redirect(static("controlplane/favicon.svg"), permanent=True)


def _error_page(request, status: int, title: str, reason: str):
    """A styled error page with the navigation; if rendering it fails, a plain one."""
    try:
        return render(
            request,
            "web/error.html",
            {"status": status, "title": title, "reason": reason},
            status=status,
        )
    except Exception:  # noqa: BLE001 - the error page itself must never fail
        return HttpResponse(f"<h1>{status} {title}</h1><p>{reason}</p>", status=status)


def refuse(request, status: int, reason: str, *, code: str):
    """A request refused before any view ran: JSON for the API, the error page otherwise."""
    if _is_api(request):
        return _api_error(status, reason, code)
    titles = {400: "Bad request", 413: "Too large"}
    return _error_page(request, status, titles.get(status, "Refused"), reason)


def bad_request(request, exception=None):
    """Django's 400: a body over the size limit is a 413; the API answers in JSON."""
    refused = refusal(exception)
    if refused is not None:
        status, body = refused
        return refuse(request, status, str(body["detail"]), code=body["code"])
    return refuse(request, 400, "The request could not be read.", code="bad_request")


def permission_denied(request, exception=None):
    reason = (
        str(exception)
        if exception and str(exception)
        else ("Your account does not hold the right this page needs.")
    )
    if _is_api(request):
        return _api_error(403, reason, "permission_denied")
    return _error_page(request, 403, "You may not do this", reason)


def page_not_found(request, exception=None):
    reason = "There is nothing at this address, or it is in a region you cannot see."
    if isinstance(exception, Http404) and exception.args and isinstance(exception.args[0], str):
        reason = exception.args[0]
    if _is_api(request):
        return _api_error(404, "Not found.", "not_found")
    return _error_page(request, 404, "Not found", reason)


def server_error(request):
    reason = "The error was logged. Nothing you did was saved half-way; try again in a moment."
    if _is_api(request):
        return _api_error(500, reason, "server_error")
    return _error_page(request, 500, "Something went wrong on our side", reason)


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _api_error(status: int, reason: str, code: str):
    return json_refusal(status, reason, code)
