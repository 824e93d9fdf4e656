"""Report pages. Thin: selectors read, services write, restrict() scopes."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from controlplane.errors import DomainError, NotAllowed
from controlplane.permissions import regions_for
from controlplane.reports import exports, selectors, services
from controlplane.reports.filtersets import ReportFilterSet
from controlplane.reports.forms import ReportRequestForm
from controlplane.reports.models import Report, ReportStatus
from controlplane.web.lists import BadFilters, run_list


def _report(request, pk) -> Report:
    try:
        return selectors.visible_reports(request.user).get(pk=pk)
    except (Report.DoesNotExist, ValidationError):
        raise Http404("No such report.") from None


@require_http_methods(["GET", "POST"])
def index(request):
    may_request = services.may_request(request.user)
    form = None
    if may_request:
        form = ReportRequestForm(
            request.POST or None, regions=regions_for(request.user, "view").order_by("slug")
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                report = services.report_request(
                    kind=data["kind"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    regions=data["regions"],
                    by=request.user,
                )
            except NotAllowed as error:
                raise PermissionDenied(str(error)) from error
            except (DomainError, ValidationError) as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"{report.get_kind_display()} requested.")
                return redirect("reports:index")
    elif request.method == "POST":
        raise PermissionDenied("Only DPOs and administrators ask for reports.")
    listed = run_list(request, ReportFilterSet, selectors.visible_reports(request.user))
    reports = list(listed.rows)
    return render(
        request,
        "reports/index.html",
        {
            "form": form,
            "list": listed,
            "page": listed.page,
            "reports": reports,
            "may_download": selectors.may_download(request.user),
            "user_may_delete": {r.pk for r in reports if services.may_delete(request.user, r)},
        },
        status=400 if listed.error else 200,
    )


@require_safe
def row(request, pk):
    """One report's row: HTMX polls it while the report is being generated."""
    report = _report(request, pk)
    return render(
        request,
        "reports/_report_row.html",
        {
            "r": report,
            "may_download": selectors.may_download(request.user),
            "user_may_delete": {report.pk} if services.may_delete(request.user, report) else set(),
        },
    )


@require_safe
def detail(request, pk):
    report = _report(request, pk)
    return render(
        request,
        "reports/detail.html",
        {
            "r": report,
            "may_download": selectors.may_download(request.user),
            "may_delete": services.may_delete(request.user, report),
        },
    )


def report_file_response(report) -> FileResponse:
    """The finished report's PDF as a download, with its stored hash (page and API alike)."""
    path = services.file_path(report)
    if not path.is_file():
        raise Http404("The report's file is missing.")
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        as_attachment=True,
        filename=report.download_name,
        content_type="application/pdf",
    )
    response["X-Content-SHA256"] = report.sha256
    return response


@require_safe
def download(request, pk):
    if not selectors.may_download(request.user):
        raise PermissionDenied("Downloading reports needs the auditor or DPO role.")
    report = _report(request, pk)
    if report.status != ReportStatus.DONE:
        raise Http404("This report has no file yet.")
    return report_file_response(report)


@require_POST
def delete(request, pk):
    report = _report(request, pk)
    try:
        services.report_delete(report=report, by=request.user)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    messages.success(
        request, f"{report.get_kind_display()} deleted; the audit trail keeps its record."
    )
    return redirect("reports:index")


@require_safe
def export(request, dataset, fmt):
    """A list page's rows as CSV or JSON, with the page's filters, streamed; a filter value
    the page refuses answers 400 with the page's sentence."""
    try:
        return exports.response(dataset, fmt, request, request.GET)
    except BadFilters as error:
        return HttpResponseBadRequest(error.text, content_type="text/plain; charset=utf-8")
