from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static

from controlplane.permissions import regions_for, role_names
from controlplane.web.panels import dashboard_panels, render_panels


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


def permission_denied(request, exception=None):
    reason = (
        str(exception)
        if exception and str(exception)
        else ("Your account does not hold the right this page needs.")
    )
    return _error_page(request, 403, "You may not do this", reason)


def page_not_found(request, exception=None):
    reason = "There is nothing at this address, or it is in a region you cannot see."
    if isinstance(exception, Http404) and exception.args and isinstance(exception.args[0], str):
        reason = exception.args[0]
    return _error_page(request, 404, "Not found", reason)


def server_error(request):
    return _error_page(
        request,
        500,
        "Something went wrong on our side",
        "The error was logged. Nothing you did was saved half-way; try again in a moment.",
    )
