"""Transfer register pages. Thin: read through selectors, write through services."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from controlplane.decisions import conditions_of
from controlplane.errors import ConflictError, DomainError, NotAllowed
from controlplane.permissions import can, is_auditor, regions_for, sees_every_region
from controlplane.transfers import lists, reference_data, selectors, services
from controlplane.transfers import policy as p
from controlplane.transfers.filtersets import TransferRequestFilterSet
from controlplane.transfers.forms import (
    ApproveForm,
    MechanismEndForm,
    ReinstateForm,
    RejectForm,
    RevokeForm,
    TransferRequestForm,
)
from controlplane.transfers.models import (
    Mechanism,
    Party,
    TransferRequest,
    TransferStatus,
)
from controlplane.web.lists import add_service_errors, list_page
from controlplane.web.live import check_as_typed


def _error_text(error) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


@require_safe
def queue(request):
    user = request.user
    if not (sees_every_region(user) or regions_for(user, "approve_transfers").exists()):
        return redirect("transfers:mine")  # people who decide nothing follow their own requests
    return lists.REGISTER.page(request, "transfers/queue.html")


@require_safe
def mine(request):
    return list_page(
        request,
        "transfers/mine.html",
        TransferRequestFilterSet,
        selectors.requests_of(request.user),
    )


FORM_FIELDS = (
    "source_region", "destination_region", "destination_country", "exporter", "exporter_role",
    "importer", "importer_role", "data_categories", "data_subjects", "purpose", "frequency",
    "volume_estimate", "derogation", "chosen_mechanism", "requested_expiry",
)  # fmt: skip


def _initial_from(tr: TransferRequest) -> dict:
    """A form's starting values from an existing request (edit a draft, copy a rejected one)."""
    initial = {name: getattr(tr, name) for name in FORM_FIELDS if name != "data_categories"}
    initial["destination_country"] = tr.destination_country.code
    initial["data_categories"] = [c.key for c in tr.data_categories.all()]

    def tri(value):
        return {True: "yes", False: "no"}.get(value, "")

    for prefix, answers in (
        ("importer", tr.importer_scope),
        ("exporter", tr.exporter_scope),
        ("derogation", tr.derogation_facts),
    ):
        for key, value in (answers or {}).items():
            initial[f"{prefix}__{key}"] = tri(value)
    initial["hr_data"] = tri(tr.hr_data)
    for name in ("art9_condition", "art10_authorisation", "tia_on", "tia_outcome"):
        initial[name] = getattr(tr, name)
    for n, leg in enumerate(tr.onward_transfers or [], start=1):
        initial[f"onward_{n}"] = leg.get("party")
    return initial


@require_POST
def check(request):
    """The request form checked as the person edits (the form's own clean(); nothing saved)."""
    return check_as_typed(request, TransferRequestForm(request.POST, user=request.user))


def _own(request, pk) -> TransferRequest:
    tr = TransferRequest.objects.filter(pk=pk, requested_by=request.user.pk).first()
    if tr is None:
        if selectors.visible_requests(request.user).filter(pk=pk).exists():
            raise PermissionDenied("Only the person who made this request may change it.")
        raise Http404("No such transfer request.")
    return tr


@require_http_methods(["GET", "POST"])
def create(request):
    copied_from = None
    initial = None
    if request.method == "GET" and request.GET.get("from", "").isdigit():
        copied_from = _own(request, int(request.GET["from"]))
        initial = _initial_from(copied_from)
        initial["requested_expiry"] = None
    form = TransferRequestForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tr = services.transfer_request_create(
                by=request.user,
                **{name: data[name] for name in FORM_FIELDS},
                submit="submit" in request.POST,
                **form.facts(),
            )
        except NotAllowed as error:
            raise PermissionDenied(str(error)) from error
        except (DomainError, ValidationError) as error:
            add_service_errors(form, error)
        else:
            verb = "submitted" if tr.status == TransferStatus.SUBMITTED else "saved as a draft"
            messages.success(request, f"{tr} {verb}.")
            return redirect(tr)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request,
        "transfers/request_form.html",
        {"form": form, "copied_from": copied_from},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def edit(request, pk):
    tr = _own(request, pk)
    if tr.status != TransferStatus.DRAFT:
        messages.error(request, f"{tr} is {tr.get_status_display().lower()}; only drafts change.")
        return redirect(tr)
    form = TransferRequestForm(request.POST or None, user=request.user, initial=_initial_from(tr))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            tr = services.transfer_request_update_draft(
                request=tr,
                by=request.user,
                **{name: data[name] for name in FORM_FIELDS},
                submit="submit" in request.POST,
                **form.facts(),
            )
        except NotAllowed as error:
            raise PermissionDenied(str(error)) from error
        except (DomainError, ValidationError) as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"{tr} saved.")
            return redirect(tr)
    status = 400 if form.is_bound and form.errors else 200
    return render(
        request, "transfers/request_form.html", {"form": form, "editing": tr}, status=status
    )


@require_POST
def delete(request, pk):
    tr = _own(request, pk)
    label = str(tr)
    return _run_then(
        request,
        tr,
        lambda: services.transfer_request_delete_draft(request=tr, by=request.user),
        f"Draft {label} deleted.",
        after="transfers:mine",
    )


@require_POST
def withdraw(request, pk):
    tr = _own(request, pk)
    return _run(
        request,
        tr,
        lambda: services.transfer_request_withdraw(
            request=tr, by=request.user, reason=request.POST.get("reason", "")
        ),
        f"{tr} withdrawn; the DPO no longer sees it in the queue.",
    )


def _run_then(request, tr, action, success, *, after):
    try:
        action()
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except (DomainError, ValidationError) as error:
        messages.error(request, _error_text(error))
        return redirect(tr)
    messages.success(request, success)
    return redirect(after)


@require_safe
def detail(request, pk):
    try:
        tr = selectors.request_for_page(request.user, pk)
    except TransferRequest.DoesNotExist:
        raise Http404("No such transfer request.") from None
    user = request.user
    may_decide = can(user, "approve_transfers", tr.source_region) and not is_auditor(user)
    own = tr.requested_by_id == user.pk
    may_reinstate = may_decide and not own and tr.status == TransferStatus.SUSPENDED
    reinstate_conditions = (
        conditions_of(services.current_verdict(tr).findings) if may_reinstate else []
    )
    if may_decide and not own and tr.status == TransferStatus.SUBMITTED:
        # The verdict as it stands now (a mechanism may have changed since submission), so the
        # conditions on the approval form are those the approval will ask for. Not saved.
        services.evaluate_request(tr)
    return render(
        request,
        "transfers/request_detail.html",
        {
            "tr": tr,
            "categories": list(tr.data_categories.all()),
            "findings": tr.policy_findings,
            "own": own,
            "may_decide": may_decide and not own and tr.status == TransferStatus.SUBMITTED,
            "four_eyes_block": may_decide and own and tr.status == TransferStatus.SUBMITTED,
            "may_submit": own and tr.status == TransferStatus.DRAFT,
            "may_withdraw": own and tr.status == TransferStatus.SUBMITTED,
            "may_copy": own and tr.status == TransferStatus.REJECTED,
            "may_reinstate": may_reinstate,
            "reinstate_form": ReinstateForm(conditions=reinstate_conditions),
            "may_revoke": may_decide
            and tr.status in (TransferStatus.APPROVED, TransferStatus.ACTIVE, "suspended"),
            "approve_form": ApproveForm(conditions=tr.conditions_to_confirm),
            "reject_form": RejectForm(),
            "revoke_form": RevokeForm(),
            "derogations": {d["key"]: d for d in reference_data.DEROGATIONS},
            "stated": _stated_facts(tr),
        },
    )


def _stated_facts(tr) -> list[tuple[str, str]]:
    """What the requester stated about the transfer, in words, for the DPO."""

    def yes_no(value):
        return "yes" if value else "no"

    def scope_label(key):
        return p.SCOPE_HINTS.get(key) or f"Certified under the {p.CERTIFICATIONS.get(key, key)}"

    out = [(f"Importer — {scope_label(k)}", yes_no(v)) for k, v in tr.importer_scope.items()]
    out += [(f"Exporter — {scope_label(k)}", yes_no(v)) for k, v in tr.exporter_scope.items()]
    if tr.hr_data is not None:
        out.append(("HR data (employees)", yes_no(tr.hr_data)))
    if tr.art9_condition:
        out.append(("Art. 9 condition", tr.get_art9_condition_display()))
    if tr.art10_authorisation:
        out.append(("Art. 10 authorisation", tr.art10_authorisation))
    if tr.tia_on:
        out.append(("TIA", f"{tr.tia_on} — {tr.get_tia_outcome_display()}"))
    out += [
        (f"Derogation condition: {p.DEROGATION_CONDITIONS[k]}", yes_no(v))
        for k, v in tr.derogation_facts.items()
    ]
    if tr.onward_transfers:
        names = dict(
            Party.objects.filter(pk__in=[leg["party"] for leg in tr.onward_transfers]).values_list(
                "pk", "name"
            )
        )
        chain = " → ".join(names.get(leg["party"], "?") for leg in tr.onward_transfers)
        out.append(("Onward transfers", chain))
    return out


def _decidable(request, pk) -> TransferRequest:
    """The request, if the user may decide on its region: 403 if they can see it but not
    decide, 404 if they cannot see it (whether it exists elsewhere is not theirs to learn)."""
    try:
        return selectors.decidable_request(request.user, pk)
    except selectors.NotYours as error:
        raise PermissionDenied(str(error)) from None
    except TransferRequest.DoesNotExist:
        raise Http404("No such transfer request.") from None


def _run(request, tr, action, success):
    try:
        action()
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except ConflictError as error:
        messages.error(request, str(error))
        response = redirect(tr)
        return response
    except (DomainError, ValidationError) as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, success)
    return redirect(tr)


@require_POST
def submit(request, pk):
    tr = _own(request, pk)
    return _run(
        request,
        tr,
        lambda: services.transfer_request_submit(request=tr, by=request.user),
        f"{tr} submitted to the DPO.",
    )


@require_POST
def approve(request, pk):
    tr = _decidable(request, pk)
    form = ApproveForm(request.POST, conditions=tr.conditions_to_confirm)
    if not form.is_valid():
        messages.error(request, "Check the approval form: " + form.errors.as_text())
        return redirect(tr)
    return _run(
        request,
        tr,
        lambda: services.transfer_request_approve(
            request=tr,
            by=request.user,
            conditions=form.cleaned_data["conditions"],
            expires_on=form.cleaned_data["expires_on"],
            confirmed=form.cleaned_data["confirmed"],
        ),
        f"{tr} approved.",
    )


@require_POST
def reject(request, pk):
    tr = _decidable(request, pk)
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A rejection needs a reason.")
        return redirect(tr)
    return _run(
        request,
        tr,
        lambda: services.transfer_request_reject(
            request=tr, by=request.user, reason=form.cleaned_data["reason"]
        ),
        f"{tr} rejected.",
    )


@require_POST
def revoke(request, pk):
    tr = _decidable(request, pk)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A revocation needs a reason.")
        return redirect(tr)
    return _run(
        request,
        tr,
        lambda: services.transfer_request_revoke(
            request=tr, by=request.user, reason=form.cleaned_data["reason"]
        ),
        f"{tr} revoked.",
    )


@require_POST
def reinstate(request, pk):
    tr = _decidable(request, pk)
    form = ReinstateForm(
        request.POST, conditions=conditions_of(services.current_verdict(tr).findings)
    )
    if not form.is_valid():
        messages.error(request, "Check the conditions: " + form.errors.as_text())
        return redirect(tr)
    return _run(
        request,
        tr,
        lambda: services.transfer_request_reinstate(
            request=tr, by=request.user, confirmed=form.cleaned_data["confirmed"]
        ),
        f"{tr} reinstated on its new basis.",
    )


@require_safe
def mechanisms(request):
    return lists.MECHANISMS.page(request, "transfers/mechanism_list.html")


@require_safe
def mechanism_detail(request, pk):
    return _mechanism_page(request, pk)


def _mechanism_page(request, pk, end_form=None, status=200):
    """The mechanism page; the end form's second step shows it again with its errors."""
    m = get_object_or_404(Mechanism.objects.with_relations(), pk=pk)
    return render(
        request,
        "transfers/mechanism_detail.html",
        {
            "m": m,
            "impact": selectors.mechanism_impact(request.user, m),
            "end_form": end_form or MechanismEndForm(),
            "may_end": m.status == p.IN_FORCE and services.may_end_mechanism(request.user, m),
            "tia_expires_on": m.tia_expires_on(),
        },
        status=status,
    )


@require_POST
def mechanism_end(request, pk):
    """Two steps: the first POST shows the impact again and asks for confirmation; the second
    (``confirm``) ends the mechanism."""
    m = get_object_or_404(Mechanism.objects.select_related("exporter__country"), pk=pk)
    if not services.may_end_mechanism(request.user, m):
        raise PermissionDenied(
            "Only a DPO of the regions that rely on it, or of the regions under its regime, "
            "ends this mechanism."
        )
    form = MechanismEndForm(request.POST)
    if not form.is_valid():
        return _mechanism_page(request, pk, end_form=form, status=400)
    data = form.cleaned_data
    if not data["confirm"]:
        try:
            services.check_end_date(
                valid_from=m.valid_from,
                ends_on=data["ends_on"] or selectors.today(),
                backdated_because=data["backdated_because"],
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return _mechanism_page(request, pk, end_form=form, status=400)
        preview = services.mechanism_end_preview(
            mechanism=m, status=data["status"], ends_on=data["ends_on"]
        )
        confirm = MechanismEndForm(initial={**data, "confirm": True})
        for field in confirm.fields.values():
            field.widget = forms.HiddenInput()
        return render(
            request,
            "transfers/mechanism_end_confirm.html",
            {
                "m": m,
                "form": confirm,
                "data": data,
                "preview": selectors.visible_preview(request.user, preview),
            },
        )
    try:
        _, outcome = services.mechanism_end(
            mechanism=m,
            by=request.user,
            status=data["status"],
            reason=data["reason"],
            ends_on=data["ends_on"],
            backdated_because=data["backdated_because"],
        )
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from error
    except (DomainError, ValidationError) as error:
        messages.error(request, _error_text(error))
        return redirect(m)
    messages.success(
        request,
        f"{m.name} ended: {len(outcome['suspended'])} transfer(s) suspended, "
        f"{len(outcome['rebased'])} moved to another basis (counted in every region).",
    )
    return redirect(m)


@require_safe
def records(request):
    return lists.TRANSFER_LOG.page(request, "transfers/record_list.html")
