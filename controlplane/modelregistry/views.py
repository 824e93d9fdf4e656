"""Pages of the model registry. Thin: selectors read, services write, restrict() scopes."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from controlplane.decisions import conditions_of
from controlplane.errors import DomainError, NotAllowed
from controlplane.modelregistry import forms, lists, selectors, services
from controlplane.modelregistry.filtersets import MLModelFilterSet
from controlplane.modelregistry.models import (
    DeploymentApproval,
    DeploymentStatus,
    MLModel,
    ModelVersion,
)
from controlplane.permissions import is_auditor
from controlplane.web.lists import run_list
from controlplane.web.live import check_as_typed


def _add_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


def _version(name: str, version: str) -> ModelVersion:
    try:
        return selectors.version_by_label(name, version)
    except ModelVersion.DoesNotExist:
        raise Http404("No such model version.") from None


@require_safe
def index(request):
    found = run_list(request, MLModelFilterSet, MLModel.objects.order_by("name"))
    matrix = selectors.models_by_regions(request.user, models=found.rows)
    return render(
        request,
        "modelregistry/index.html",
        {
            "list": found,
            "page": found.page,
            "matrix": matrix,
            "may_register": services.may_register(request.user),
            # "awaiting you" only for someone who decides (not auditors, not engineers)
            "queue_count": selectors.deployment_queue(request.user).count()
            if not is_auditor(request.user)
            else 0,
        },
    )


@require_http_methods(["GET", "POST"])
def model_create(request):
    if not services.may_register(request.user):
        raise PermissionDenied("Only ML engineers register models.")
    form = forms.ModelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            model = services.model_create(**form.cleaned_data, by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Model {model.name} registered.")
            return redirect(model)
    return render(request, "modelregistry/model_form.html", {"form": form})


@require_safe
def model_detail(request, name):
    model = get_object_or_404(MLModel, name=name)
    return render(
        request,
        "modelregistry/model_detail.html",
        {
            "model": model,
            "versions": selectors.versions_of(model),
            "may_register": services.may_register(request.user),
        },
    )


def _registering(request, name) -> MLModel:
    model = get_object_or_404(MLModel, name=name)
    if not services.may_register(request.user):
        raise PermissionDenied("Only ML engineers register versions.")
    return model


@require_http_methods(["GET", "POST"])
def version_create(request, name):
    model = _registering(request, name)
    form = forms.VersionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mv = services.version_register(model=model, **form.cleaned_data, by=request.user)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"{mv} registered.")
            return redirect(mv)
    return render(request, "modelregistry/version_form.html", {"model": model, "form": form})


@require_POST
def version_check(request, name):
    """The version form checked as the person edits (the form's own clean(); nothing saved)."""
    _registering(request, name)
    return check_as_typed(request, forms.VersionForm(request.POST))


@require_safe
def version_detail(request, name, version):
    mv = _version(name, version)
    return render(
        request,
        "modelregistry/version_detail.html",
        {
            "version": mv,
            "artifacts": mv.artifacts.select_related("region"),
            "approvals": selectors.approvals_for_version(request.user, mv),
            "request_form": forms.RequestForm(user=request.user)
            if services.may_register(request.user)
            else None,
        },
    )


@require_safe
def version_lineage(request, name, version):
    mv = _version(name, version)
    chain, broken = selectors.lineage_chain(mv)
    return render(
        request,
        "modelregistry/lineage.html",
        {"version": mv, "chain": chain, "broken": broken},
    )


@require_POST
def deployment_request(request, name, version):
    if not services.may_register(request.user):
        raise PermissionDenied("Only ML engineers request deployments.")
    mv = _version(name, version)
    form = forms.RequestForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "Choose a region you have access to.")
        return redirect(mv)
    try:
        approval = services.deployment_request(
            version=mv,
            region=form.cleaned_data["region"],
            justification=form.cleaned_data["justification"],
            by=request.user,
        )
    except (DomainError, ValidationError) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return redirect(mv)
    messages.success(
        request, f"Deployment of {mv} to {approval.region.slug} requested ({approval})."
    )
    return redirect(approval)


@require_safe
def deployment_queue(request):
    return lists.DEPLOYMENT_QUEUE.page(
        request,
        "modelregistry/queue.html",
        context={"mine": selectors.requests_of(request.user)[:50]},
    )


def _page(request, approval, decision_form=None, retire_form=None, status=200):
    live = None
    if approval.status == DeploymentStatus.REQUESTED:
        # Show the check as it stands now: a transfer approved since the request may have
        # unblocked it (the approval runs it again anyway).
        live = services.check_deployment(version=approval.version, region=approval.region)
    findings = [f.as_dict() for f in live.findings] if live else approval.policy_findings
    allowed = live.allowed if live else approval.policy_allowed
    conditions = conditions_of(live.findings) if live else []
    may_decide = approval.status == DeploymentStatus.REQUESTED and services.may_decide(
        request.user, approval
    )
    context = {
        "approval": approval,
        "version": approval.version,
        "findings": findings,
        "allowed": allowed,
        "may_decide": may_decide,
        "is_own": approval.requested_by_id == request.user.pk,
        "may_retire": approval.status == DeploymentStatus.APPROVED
        and services.may_retire(request.user, approval),
        "decision_form": decision_form or forms.DecisionForm(conditions=conditions),
        "retire_form": retire_form or forms.RetireForm(),
        "read_only": is_auditor(request.user),
    }
    return render(request, "modelregistry/deployment_detail.html", context, status=status)


def _approval(request, pk):
    try:
        return selectors.approval_for_page(request.user, pk)
    except DeploymentApproval.DoesNotExist:
        raise Http404("No such deployment request.") from None


@require_safe
def deployment_detail(request, pk):
    return _page(request, _approval(request, pk))


@require_POST
def deployment_decide(request, pk):
    approval = _approval(request, pk)
    try:
        services.ensure_may_decide(approval=approval, by=request.user)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    live = services.check_deployment(version=approval.version, region=approval.region)
    form = forms.DecisionForm(request.POST, conditions=conditions_of(live.findings))
    if not form.is_valid():
        return _page(request, approval, decision_form=form, status=400)
    data = form.cleaned_data
    try:
        if data["decision"] == "approve":
            services.deployment_approve(
                approval=approval, by=request.user, note=data["note"], confirmed=data["confirmed"]
            )
            messages.success(
                request,
                f"{approval.version} approved for {approval.region.slug}; it is now the "
                "region's desired version.",
            )
        else:
            services.deployment_reject(approval=approval, by=request.user, reason=data["note"])
            messages.success(request, f"{approval} rejected.")
    except ValidationError as error:
        _add_errors(form, error)
        return _page(request, approval, decision_form=form, status=400)
    except DomainError as error:
        messages.error(request, str(error))
        return _page(request, approval, decision_form=form, status=error.http_status)
    return redirect("modelregistry:deployment", pk=approval.pk)


@require_POST
def deployment_retire(request, pk):
    approval = _approval(request, pk)
    form = forms.RetireForm(request.POST)
    form.is_valid()
    try:
        services.deployment_retire(
            approval=approval, by=request.user, reason=form.cleaned_data.get("reason", "")
        )
    except DomainError as error:
        messages.error(request, str(error))
        return _page(request, approval, retire_form=form, status=error.http_status)
    messages.success(request, f"{approval} retired.")
    return redirect("modelregistry:deployment", pk=approval.pk)
