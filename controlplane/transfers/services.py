"""Every write to the transfer register. Each checks, saves, audits in one transaction.

Domain errors (``controlplane.errors``) carry the message the user sees: ``NotAllowed`` (403)
for four eyes and region scope, ``ConflictError`` (409) when someone decided first,
``DomainError`` (400) for a rule the request breaks, and Django ``ValidationError`` for a bad
field.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from controlplane.audit.actors import Actor
from controlplane.audit.services import record_event, record_events
from controlplane.decisions import (
    APPROVED,
    REJECTED,
    conditions_of,
    first_decision_conflict,
    require_confirmed,
)
from controlplane.errors import ConflictError, DomainError, NotAllowed
from controlplane.permissions import (
    Role,
    can,
    ensure_may_change,
    has_role,
    is_auditor,
    regions_for,
)
from controlplane.transfers import policy as p
from controlplane.transfers.models import (
    IN_EFFECT,
    Mechanism,
    Party,
    TransferRecord,
    TransferRequest,
    TransferStatus,
)
from controlplane.transfers.selectors import covering_requests, mechanism_set, today
from regions.models import Country, DataCategory, Jurisdiction, Region

SYSTEM = Actor.system("transfers")
EXPIRY_WARNING_DAYS = 30


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def tia_validity() -> timedelta:
    """The house rule for how long a TIA without its own end date counts as current."""
    return timedelta(days=settings.TRANSFERS_TIA_VALIDITY_DAYS)


def onward_legs(legs) -> tuple[p.OnwardLeg, ...]:
    """``[{"party": id, "role": ...}]`` as the engine's legs (one query for the whole chain)."""
    ids = [leg["party"] for leg in legs]
    parties = Party.objects.select_related("country__jurisdiction").in_bulk(ids)
    missing = [str(i) for i in ids if i not in parties]
    if missing:
        raise ValidationError({"onward_transfers": f"Unknown party: {', '.join(missing)}."})
    return tuple(
        p.OnwardLeg(parties[leg["party"]].to_facts(leg.get("role") or None)) for leg in legs
    )


def facts_for(tr: TransferRequest, categories=None) -> p.TransferFacts:
    """The engine's facts for a saved request (relations loaded or loadable)."""
    cats = list(categories if categories is not None else tr.data_categories.all())
    return p.TransferFacts(
        source_country=tr.source_region.country.code,
        source_jurisdiction=tr.source_region.jurisdiction.code,
        destination_country=tr.destination_country.code,
        destination_jurisdiction=tr.destination_country.jurisdiction.code,
        destination_name=tr.destination_country.name,
        exporter=tr.exporter.to_facts(tr.exporter_role, tr.exporter_scope),
        importer=tr.importer.to_facts(tr.importer_role, tr.importer_scope),
        data_categories=tuple(c.key for c in cats),
        special_categories=frozenset(c.key for c in cats if c.is_special_category),
        criminal_categories=frozenset(c.key for c in cats if c.is_criminal_offence_data),
        frequency=tr.frequency,
        derogation=tr.derogation or None,
        chosen_mechanism=tr.chosen_mechanism.key if tr.chosen_mechanism_id else None,
        derogation_facts=tr.derogation_facts,
        art9_condition=tr.art9_condition or None,
        art10_authorisation=tr.art10_authorisation,
        hr_data=tr.hr_data,
        tia=p.TIA(tr.tia_on, tr.tia_outcome) if tr.tia_on and tr.tia_outcome else None,
        onward=onward_legs(tr.onward_transfers) if tr.onward_transfers else (),
    )


def _apply_decision(
    tr: TransferRequest, decision: p.PolicyDecision, categories, rows: dict | None = None
) -> None:
    tr.is_transfer = decision.transfer
    tr.policy_allowed = decision.allowed
    tr.policy_basis = decision.basis or ""
    if decision.mechanism is None:
        tr.policy_mechanism = None
    elif rows is not None and decision.mechanism.key in rows:
        tr.policy_mechanism = rows[decision.mechanism.key]
    else:
        tr.policy_mechanism = Mechanism.objects.get(key=decision.mechanism.key)
    tr.policy_findings = [f.as_dict() for f in decision.findings]
    tr.evaluated_at = timezone.now()
    tr.has_special_categories = any(
        c.is_special_category or c.is_criminal_offence_data for c in categories
    )


def evaluate_request(
    tr: TransferRequest, *, on: date | None = None, mechanisms=None, rows: dict | None = None
):
    """Run the engine on a saved request and store its verdict on the row (caller saves).

    ``rows`` (mechanism key -> row) spares a query per request when re-evaluating many."""
    categories = list(tr.data_categories.all())
    try:
        facts = facts_for(tr, categories)
    except ValueError as error:  # contradictory facts the row's own checks cannot see
        raise ValidationError({"exporter_scope": str(error)}) from error
    decision = p.evaluate(
        facts, mechanisms or mechanism_set(), on or today(), tia_validity=tia_validity()
    )
    _apply_decision(tr, decision, categories, rows)
    return decision


def _decision_summary(tr: TransferRequest) -> dict:
    return {
        "allowed": tr.policy_allowed,
        "basis": tr.policy_basis,
        "mechanism": tr.policy_mechanism.key if tr.policy_mechanism_id else None,
        "codes": [f["code"] for f in tr.policy_findings],
    }


def _region_changed(region) -> None:
    """Tell listeners (bundle publishing) that a region's active transfers changed."""
    from regions import services as region_services

    for listener in region_services.region_changed_listeners:
        listener(region)


def destination_regions(tr: TransferRequest) -> list:
    """Our regions at the receiving end: the destination region, or, for a transfer to a
    country, every region in that country."""
    if tr.destination_region_id:
        return [tr.destination_region]
    return list(Region.objects.filter(country_id=tr.destination_country_id).order_by("pk"))


def _regions_changed_on_commit(*transfers: TransferRequest) -> None:
    """Both ends' bundles list a transfer: republish the source and every destination region.

    The listener (bundle publishing) defers to the commit and builds each region once per
    transaction, however many transfers touched it.
    """
    regions = {}
    country_ids = set()
    for tr in transfers:
        regions[tr.source_region_id] = tr.source_region
        if tr.destination_region_id:
            regions[tr.destination_region_id] = tr.destination_region
        else:
            country_ids.add(tr.destination_country_id)
    if country_ids:
        regions.update({r.pk: r for r in Region.objects.filter(country_id__in=country_ids)})
    for region in regions.values():
        _region_changed(region)


# Other apps re-check what relied on transfers that just left effect (revoked, suspended,
# expired): callables ``(*, transfers, by)`` run inside the same transaction, so what they
# change commits, or rolls back, with the transfers' own change. One call per batch: ending a
# mechanism that many transfers rely on re-checks each affected region once.
transfer_ended_listeners: list = []

# Other apps whose output depends on the mechanisms themselves (inference routing reads the
# adequacy decisions) hear of every change or end: callables ``(*, mechanism)`` run inside the
# same transaction, after the dependents were re-evaluated.
mechanism_changed_listeners: list = []


def _mechanism_changed(mechanism: Mechanism) -> None:
    for listener in mechanism_changed_listeners:
        listener(mechanism=mechanism)


def _transfers_ended(transfers, by) -> None:
    if not transfers:
        return
    for listener in transfer_ended_listeners:
        listener(transfers=list(transfers), by=by)


# --------------------------------------------------------------------------------------------
# Requests
# --------------------------------------------------------------------------------------------


def transfer_request_create(
    *,
    by,
    source_region,
    exporter: Party,
    importer: Party,
    data_categories,
    purpose: str,
    data_subjects: str,
    frequency: str,
    destination_region=None,
    destination_country=None,
    exporter_role: str | None = None,
    importer_role: str | None = None,
    volume_estimate: int | None = None,
    derogation: str = "",
    chosen_mechanism: Mechanism | None = None,
    requested_expiry: date | None = None,
    importer_scope: dict | None = None,
    exporter_scope: dict | None = None,
    hr_data: bool | None = None,
    art9_condition: str = "",
    art10_authorisation: str = "",
    tia_on: date | None = None,
    tia_outcome: str = "",
    derogation_facts: dict | None = None,
    onward_transfers: list | None = None,
    submit: bool = False,
) -> TransferRequest:
    """Create a draft (evaluated as a preview); ``submit=True`` submits it at once."""
    ensure_may_change(by)
    if not can(by, "view", source_region):
        raise NotAllowed(f"You have no access to {source_region.slug}.")
    if destination_country is None:
        if destination_region is None:
            raise ValidationError({"destination_country": "Give a destination."})
        destination_country = destination_region.country
    categories = list(data_categories)
    if not categories:
        raise ValidationError({"data_categories": "Name at least one data category."})
    with transaction.atomic():
        tr = TransferRequest(
            source_region=source_region,
            destination_region=destination_region,
            destination_country=destination_country,
            exporter=exporter,
            exporter_role=exporter_role or exporter.role,
            importer=importer,
            importer_role=importer_role or importer.role,
            data_subjects=data_subjects,
            purpose=purpose,
            frequency=frequency,
            volume_estimate=volume_estimate,
            derogation=derogation or "",
            chosen_mechanism=chosen_mechanism,
            requested_expiry=requested_expiry,
            importer_scope=importer_scope or {},
            exporter_scope=exporter_scope or {},
            hr_data=hr_data,
            art9_condition=art9_condition or "",
            art10_authorisation=(art10_authorisation or "").strip(),
            tia_on=tia_on,
            tia_outcome=tia_outcome or "",
            derogation_facts=derogation_facts or {},
            onward_transfers=onward_transfers or [],
            requested_by=by,
        )
        tr.full_clean()
        tr.save()
        tr.data_categories.set(categories)
        evaluate_request(tr)
        tr.save()
        record_event(
            actor=by,
            action="transfer.created",
            obj=tr,
            data={
                "source_region": source_region.slug,
                "destination_country": destination_country.code,
                "categories": sorted(c.key for c in categories),
                "frequency": frequency,
                **_decision_summary(tr),
            },
        )
        if submit:
            tr = transfer_request_submit(request=tr, by=by)
    return tr


def _locked(request: TransferRequest) -> TransferRequest:
    return (
        TransferRequest.objects.select_for_update(of=("self",))
        .select_related(
            "source_region__jurisdiction",
            "source_region__country",
            "destination_country__jurisdiction",
            "exporter__country__jurisdiction",
            "importer__country__jurisdiction",
        )
        .get(pk=request.pk)
    )


def transfer_request_submit(*, request: TransferRequest, by) -> TransferRequest:
    ensure_may_change(by)
    with transaction.atomic():
        tr = _locked(request)
        if tr.requested_by_id != by.pk:
            raise NotAllowed("Only the person who drafted the request submits it.")
        if tr.status != TransferStatus.DRAFT:
            raise ConflictError(f"{tr} is already {tr.get_status_display().lower()}.")
        evaluate_request(tr)
        tr.status = TransferStatus.SUBMITTED
        tr.submitted_at = timezone.now()
        tr.save()
        record_event(actor=by, action="transfer.submitted", obj=tr, data=_decision_summary(tr))
    return tr


def _check_decider(tr: TransferRequest, by) -> None:
    if not can(by, "approve_transfers", tr.source_region):
        raise NotAllowed(
            f"Only a DPO with approval rights on {tr.source_region.slug} decides this request."
        )
    if tr.requested_by_id == by.pk:
        raise NotAllowed("Four eyes: you cannot decide on a request you made yourself.")


def _already_decided(tr: TransferRequest) -> ConflictError:
    """Names the decision that came first, not the request's later state."""
    return first_decision_conflict(
        tr,
        decision=tr.decision,
        decided_by=tr.decided_by if tr.decided_by_id else None,
        decided_at=tr.decided_at,
        state=tr.get_status_display().lower(),
    )


def transfer_request_approve(
    *,
    request: TransferRequest,
    by,
    conditions: str = "",
    expires_on: date | None = None,
    confirmed=(),
) -> TransferRequest:
    """Approve a submitted request. The row lock makes concurrent decisions end with one.

    ``confirmed``: the codes of the engine's conditions the DPO confirms; every condition of
    the verdict as it stands now must be among them (``controlplane.decisions``).
    """
    ensure_may_change(by)
    with transaction.atomic():
        tr = _locked(request)
        _check_decider(tr, by)
        if tr.status != TransferStatus.SUBMITTED:
            raise _already_decided(tr)
        decision = evaluate_request(tr)
        if not decision.allowed:
            codes = ", ".join(f.code for f in decision.blocking)
            raise DomainError(
                f"The policy engine blocks {tr} ({codes}); a blocked request cannot be approved.",
                code="blocked",
            )
        confirmed = require_confirmed(
            conditions=conditions_of(decision.findings), confirmed=confirmed
        )
        expires_on = expires_on or tr.requested_expiry
        if expires_on and expires_on <= today():
            raise ValidationError({"expires_on": "The expiry must be in the future."})
        tr.status = TransferStatus.APPROVED
        tr.decided_by = by
        tr.decided_at = timezone.now()
        tr.conditions = conditions.strip()
        tr.confirmed_conditions = confirmed
        tr.expires_on = expires_on
        tr.save()
        record_event(
            actor=by,
            action="transfer.approved",
            obj=tr,
            data={
                **_decision_summary(tr),
                "decision": APPROVED,
                "conditions": tr.conditions,
                "confirmed_conditions": confirmed,
                "expires_on": expires_on,
            },
        )
        _regions_changed_on_commit(tr)
    return tr


def transfer_request_reject(*, request: TransferRequest, by, reason: str) -> TransferRequest:
    ensure_may_change(by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the rejection."})
    with transaction.atomic():
        tr = _locked(request)
        _check_decider(tr, by)
        if tr.status != TransferStatus.SUBMITTED:
            raise _already_decided(tr)
        tr.status = TransferStatus.REJECTED
        tr.decided_by = by
        tr.decided_at = timezone.now()
        tr.rejection_reason = reason
        tr.save()
        record_event(
            actor=by,
            action="transfer.rejected",
            obj=tr,
            data={"decision": REJECTED, "reason": reason},
        )
    return tr


def transfer_request_activate(*, request: TransferRequest, by) -> TransferRequest:
    """Mark an approved request as running (the first transfer under it started)."""
    with transaction.atomic():
        tr = _locked(request)
        if tr.status == TransferStatus.ACTIVE:
            return tr
        if tr.status != TransferStatus.APPROVED:
            raise ConflictError(f"{tr} is {tr.get_status_display().lower()}, not approved.")
        tr.status = TransferStatus.ACTIVE
        tr.save()
        record_event(actor=by, action="transfer.activated", obj=tr)
    return tr


def current_verdict(tr: TransferRequest) -> p.PolicyDecision:
    """The engine's verdict on ``tr`` as of today, without touching the row."""
    return p.evaluate(facts_for(tr), mechanism_set(), today(), tia_validity=tia_validity())


def transfer_request_reinstate(*, request: TransferRequest, by, confirmed=()) -> TransferRequest:
    """A DPO brings a suspended transfer back once the engine finds a basis again. It is a
    decision like an approval: every condition of the new verdict must be confirmed."""
    ensure_may_change(by)
    with transaction.atomic():
        tr = _locked(request)
        _check_decider(tr, by)
        if tr.status != TransferStatus.SUSPENDED:
            raise ConflictError(f"{tr} is {tr.get_status_display().lower()}, not suspended.")
        decision = evaluate_request(tr)
        if not decision.allowed:
            codes = ", ".join(f.code for f in decision.blocking)
            raise DomainError(
                f"The policy engine still blocks {tr} ({codes}); it stays suspended.",
                code="blocked",
            )
        if tr.expires_on and tr.expires_on <= today():
            raise DomainError(f"The approval of {tr} expired on {tr.expires_on}.")
        confirmed = require_confirmed(
            conditions=conditions_of(decision.findings), confirmed=confirmed
        )
        tr.status = TransferStatus.APPROVED
        tr.suspended_because = None
        tr.ended_at = None
        tr.end_reason = ""
        tr.confirmed_conditions = confirmed
        tr.save()
        record_event(
            actor=by,
            action="transfer.reinstated",
            obj=tr,
            data={**_decision_summary(tr), "confirmed_conditions": confirmed},
        )
        _regions_changed_on_commit(tr)
    return tr


def transfer_request_revoke(*, request: TransferRequest, by, reason: str) -> TransferRequest:
    """A DPO withdraws an approval (or ends a suspended transfer for good)."""
    ensure_may_change(by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the revocation."})
    with transaction.atomic():
        tr = _locked(request)
        if not can(by, "approve_transfers", tr.source_region):
            raise NotAllowed(f"Only a DPO of {tr.source_region.slug} revokes this transfer.")
        if tr.status not in (*IN_EFFECT, TransferStatus.SUSPENDED):
            raise ConflictError(f"{tr} is {tr.get_status_display().lower()}; nothing to revoke.")
        tr.status = TransferStatus.REVOKED
        tr.ended_at = timezone.now()
        tr.end_reason = reason
        tr.save()
        record_event(actor=by, action="transfer.revoked", obj=tr, data={"reason": reason})
        _transfers_ended([tr], by)
        _regions_changed_on_commit(tr)
    return tr


# --------------------------------------------------------------------------------------------
# Mechanisms ending, and what depends on them
# --------------------------------------------------------------------------------------------


def may_manage_mechanisms(user) -> bool:
    """DPOs (and administrators) record new mechanisms; auditors never."""
    if not getattr(user, "is_authenticated", False) or is_auditor(user):
        return False
    return user.is_superuser or has_role(user, Role.DPO) or user.has_perm("transfers.add_mechanism")


def regime_jurisdiction_id(mechanism: Mechanism) -> int | None:
    """The jurisdiction whose law the mechanism serves: the one that adopted an adequacy
    decision or approved BCRs, else the exporter's (EU SCCs: the EEA; the UK IDTA: GB)."""
    if mechanism.from_jurisdiction_id:
        return mechanism.from_jurisdiction_id
    if mechanism.exporter_id:
        return mechanism.exporter.country.jurisdiction_id
    return None


def may_end_mechanism(user, mechanism: Mechanism) -> bool:
    """Ending or changing a mechanism decides for every region relying on it. Allowed to
    superusers and to the DPOs (approvers of transfers) of a region whose transfers rely on it
    or of a region of its regime; never to auditors."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if is_auditor(user):
        return False
    if user.is_superuser:
        return True
    deciding = regions_for(user, "approve_transfers")
    regime = regime_jurisdiction_id(mechanism)
    if regime is not None and deciding.filter(jurisdiction_id=regime).exists():
        return True
    return TransferRequest.objects.filter(
        policy_mechanism=mechanism,
        status__in=[*IN_EFFECT, TransferStatus.SUBMITTED],
        source_region__in=deciding.values("pk"),
    ).exists()


def _ensure_may_end(by, mechanism: Mechanism) -> None:
    if by is None or isinstance(by, Actor):
        return  # the control plane itself (the daily check, the reference-data loader)
    ensure_may_change(by)
    if not may_end_mechanism(by, mechanism):
        raise NotAllowed(
            f"Only a DPO of the regions that rely on {mechanism.name}, or of the regions under "
            "its regime, changes or ends it."
        )


_NOT_IN_DIFF = {"id", "created_at", "updated_at", "expiry_warned_on"}


def mechanism_snapshot(mechanism: Mechanism) -> dict:
    """A mechanism's recorded values, many-to-many fields included (as category keys and
    party ids), in the shape the audit trail stores them."""
    values = {
        field.name: field.value_from_object(mechanism)
        for field in Mechanism._meta.concrete_fields
        if field.name not in _NOT_IN_DIFF
    }
    if mechanism.pk:
        values["categories"] = sorted(mechanism.categories.values_list("key", flat=True))
        values["members"] = sorted(mechanism.members.values_list("pk", flat=True))
    return values


def _diff(before: dict, after: dict) -> dict:
    return {
        key: {"from": before.get(key), "to": value}
        for key, value in after.items()
        if before.get(key) != value
    }


def mechanism_save(
    *,
    mechanism: Mechanism,
    by,
    categories=None,
    members=None,
    reason: str = "",
    backdated_because: str = "",
) -> Mechanism:
    """Create or change a mechanism: the one write path for the admin, the seed and the
    reference-data loader.

    A change is a decision about every region relying on the mechanism: only those who may end
    it may change it. The event carries a field-by-field diff (many-to-many fields included),
    and every transfer relying on it is re-evaluated in the same transaction (an SCC whose TIA
    turns to "do not transfer" suspends its transfers).
    """
    creating = mechanism._state.adding
    person = by is not None and not isinstance(by, Actor)
    if person:
        ensure_may_change(by)
        if creating and not may_manage_mechanisms(by):
            raise NotAllowed("Only a DPO records a transfer mechanism.")
    with transaction.atomic():
        before = {}
        if not creating:
            stored = (
                Mechanism.objects.select_for_update(of=("self",))
                .select_related("exporter__country")
                .get(pk=mechanism.pk)
            )
            _ensure_may_end(by, stored)
            before = mechanism_snapshot(stored)
        if mechanism.ends_on and mechanism.ends_on != before.get("ends_on"):
            check_end_date(
                valid_from=mechanism.valid_from,
                ends_on=mechanism.ends_on,
                backdated_because=backdated_because,
            )
        mechanism.full_clean()
        mechanism.save()
        if categories is not None:
            mechanism.categories.set(categories)
        if members is not None:
            mechanism.members.set(members)
        after = mechanism_snapshot(mechanism)
        if creating:
            record_event(actor=by, action="mechanism.created", obj=mechanism, data=after)
            _mechanism_changed(mechanism)
            return mechanism
        changes = _diff(before, after)
        if not changes:
            return mechanism
        record_event(
            actor=by,
            action="mechanism.changed",
            obj=mechanism,
            data={
                "key": mechanism.key,
                "changes": changes,
                "reason": reason,
                **({"backdated_because": backdated_because} if "ends_on" in changes else {}),
            },
        )
        reevaluate_dependents(
            mechanism=mechanism,
            by=by,
            reason=f"{mechanism.name} changed ({', '.join(sorted(changes))}); no basis left.",
        )
        _mechanism_changed(mechanism)
    return mechanism


def reference_mechanisms_sync(*, by=None) -> int:
    """Load or update the reference adequacy decisions through ``mechanism_save`` (audited,
    with a diff, dependents re-evaluated). Returns the number of rows written."""
    from controlplane.transfers.reference_data import load_reference_mechanisms

    by = by or Actor.system("reference-data")
    return load_reference_mechanisms(
        Mechanism,
        Jurisdiction,
        Country,
        save=lambda row: mechanism_save(
            mechanism=row,
            by=by,
            reason="reference data updated",
            backdated_because="the date the decision ended, as published",
        ),
    )


# What re-evaluating a request may change on its row.
REEVALUATED_FIELDS = [
    "is_transfer",
    "policy_allowed",
    "policy_basis",
    "policy_mechanism",
    "policy_findings",
    "evaluated_at",
    "has_special_categories",
    "status",
    "suspended_because",
    "ended_at",
    "end_reason",
]


def _save_reevaluated(requests) -> None:
    """Write re-evaluated rows with one UPDATE per distinct set of new values: dependents of one
    mechanism mostly end up alike, so 10,000 of them take a handful of statements."""
    groups: dict = {}
    for tr in requests:
        values = {
            name: getattr(tr, f"{name}_id" if name in ("policy_mechanism", "suspended_because")
                          else name)
            for name in REEVALUATED_FIELDS
        }
        key = json.dumps(values, sort_keys=True, cls=DjangoJSONEncoder)
        groups.setdefault(key, (values, []))[1].append(tr.pk)
    for values, pks in groups.values():
        update = {
            (f"{name}_id" if name in ("policy_mechanism", "suspended_because") else name): value
            for name, value in values.items()
        }
        for start in range(0, len(pks), 1000):
            TransferRequest.objects.filter(pk__in=pks[start : start + 1000]).update(**update)


def reevaluate_dependents(*, mechanism: Mechanism, by, on: date | None = None, reason: str = ""):
    """Re-evaluate every request relying on ``mechanism``; suspend those left without a basis.

    Returns ``{"suspended": [...], "rebased": [...], "refreshed": [...]}``.
    """
    on = on or today()
    outcome = {"suspended": [], "rebased": [], "refreshed": []}
    mechanisms = mechanism_set()
    rows = {m.key: m for m in Mechanism.objects.all()}
    with transaction.atomic():
        dependents = (
            TransferRequest.objects.select_for_update(of=("self",))
            .filter(
                policy_mechanism=mechanism,
                status__in=[*IN_EFFECT, TransferStatus.SUBMITTED],
            )
            .select_related(
                "source_region__jurisdiction",
                "source_region__country",
                "destination_region",
                "destination_country__jurisdiction",
                "exporter__country__jurisdiction",
                "importer__country__jurisdiction",
                "chosen_mechanism",
            )
            .prefetch_related("data_categories")
            .order_by("pk")
        )
        now = timezone.now()
        changed, events = [], []
        for tr in dependents:
            decision = evaluate_request(tr, on=on, mechanisms=mechanisms, rows=rows)
            tr.evaluated_at = now  # one moment for the whole batch
            changed.append(tr)
            if tr.status == TransferStatus.SUBMITTED:
                # A request awaiting its DPO: the findings they will decide on changed.
                outcome["refreshed"].append(tr)
                events.append(
                    {
                        "action": "transfer.reevaluated",
                        "obj": tr,
                        "data": {"after": mechanism.key, "pending": True, **_decision_summary(tr)},
                    }
                )
                continue
            # A basis that needs a condition nobody confirmed for this transfer is not one yet:
            # the transfer waits, suspended, for a DPO to reinstate it and confirm.
            unconfirmed = sorted(
                {c.code for c in conditions_of(decision.findings)} - set(tr.confirmed_conditions)
            )
            if decision.allowed and not unconfirmed:
                outcome["rebased"].append(tr)
                events.append(
                    {
                        "action": "transfer.reevaluated",
                        "obj": tr,
                        "data": {"after": mechanism.key, **_decision_summary(tr)},
                    }
                )
                continue
            tr.status = TransferStatus.SUSPENDED
            tr.suspended_because = mechanism
            tr.ended_at = now
            tr.end_reason = reason or (
                f"{mechanism.name} no longer applies; the remaining basis needs a DPO to confirm "
                f"{', '.join(unconfirmed)} (reinstate the transfer to confirm)."
                if decision.allowed
                else f"{mechanism.name} no longer applies; no other basis found."
            )
            outcome["suspended"].append(tr)
            events.append(
                {
                    "action": "transfer.suspended",
                    "obj": tr,
                    "data": {
                        "mechanism": mechanism.key,
                        "reason": tr.end_reason,
                        **_decision_summary(tr),
                    },
                }
            )
        # Rows and events in bulk (the rows are locked; nothing else writes them meanwhile).
        _save_reevaluated(changed)
        record_events(actor=by, events=events)
        # Once for the whole batch: deployments re-checked in one pass, regions published once.
        _transfers_ended(outcome["suspended"], by)
        _regions_changed_on_commit(*outcome["suspended"])
    return outcome


BACKDATE_WITHOUT_REASON_DAYS = 30


def check_end_date(*, valid_from: date | None, ends_on: date, backdated_because: str = "") -> None:
    """An end is never before the mechanism began, and an end far in the past (more than
    ``BACKDATE_WITHOUT_REASON_DAYS``) needs a stated reason for backdating."""
    if valid_from and ends_on < valid_from:
        raise ValidationError(
            {"ends_on": f"The end ({ends_on}) cannot come before it began ({valid_from})."}
        )
    limit = today() - timedelta(days=BACKDATE_WITHOUT_REASON_DAYS)
    if ends_on < limit and not backdated_because:
        raise ValidationError(
            {
                "backdated_because": f"The end ({ends_on}) is more than "
                f"{BACKDATE_WITHOUT_REASON_DAYS} days in the past: say why it is backdated."
            }
        )


def mechanism_end_preview(*, mechanism: Mechanism, status: str, ends_on: date | None = None):
    """What ending ``mechanism`` would do, without writing anything: the transfers in effect
    relying on it that would be suspended or moved to another basis (judged on the day it ends,
    or today), and the regions whose deployments would then be re-checked."""
    on = today()
    ends_on = ends_on or on
    rows = list(Mechanism.objects.with_relations())
    current = next(m for m in rows if m.pk == mechanism.pk)
    end = ends_on if not current.ends_on or ends_on < current.ends_on else current.ends_on
    ended = dataclasses.replace(current.to_policy(), status=status, ends_on=end)
    mechanisms = p.MechanismSet([*(m.to_policy() for m in rows if m.pk != current.pk), ended])
    judged_on = max(on, end)
    outcome = {"suspended": [], "rebased": [], "on": judged_on, "regions": []}
    dependents = (
        TransferRequest.objects.filter(policy_mechanism=current, status__in=IN_EFFECT)
        .select_related(
            "source_region__jurisdiction",
            "source_region__country",
            "destination_region",
            "destination_country__jurisdiction",
            "exporter__country__jurisdiction",
            "importer__country__jurisdiction",
        )
        .prefetch_related("data_categories")
        .order_by("pk")
    )
    for tr in dependents:
        decision = p.evaluate(facts_for(tr), mechanisms, judged_on, tia_validity=tia_validity())
        unconfirmed = {c.code for c in conditions_of(decision.findings)} - set(
            tr.confirmed_conditions
        )
        outcome["rebased" if decision.allowed and not unconfirmed else "suspended"].append(tr)
    regions = {}
    for tr in outcome["suspended"]:
        regions.update({r.pk: r for r in destination_regions(tr)})
    outcome["regions"] = sorted(regions.values(), key=lambda r: r.slug)
    return outcome


def mechanism_end(
    *,
    mechanism: Mechanism,
    by,
    status: str,
    reason: str,
    ends_on: date | None = None,
    backdated_because: str = "",
):
    """Revoke, suspend or expire a mechanism and deal with everything that relied on it."""
    if by is not None and not isinstance(by, Actor):
        ensure_may_change(by)
    if status not in (p.SUSPENDED, p.REVOKED, p.EXPIRED):
        raise ValidationError({"status": "End a mechanism as suspended, revoked or expired."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the mechanism ends."})
    backdated_because = (backdated_because or "").strip()
    ends_on = ends_on or today()
    with transaction.atomic():
        m = (
            Mechanism.objects.select_for_update(of=("self",))
            .select_related("exporter__country")
            .get(pk=mechanism.pk)
        )
        _ensure_may_end(by, m)
        if m.status != p.IN_FORCE:
            raise ConflictError(f"{m.name} is already {m.get_status_display().lower()}.")
        check_end_date(valid_from=m.valid_from, ends_on=ends_on, backdated_because=backdated_because)
        m.status = status
        m.ends_on = ends_on if not m.ends_on or ends_on < m.ends_on else m.ends_on
        m.status_reason = reason
        m.full_clean()
        m.save()
        record_event(
            actor=by,
            action=f"mechanism.{status}",
            obj=m,
            data={
                "key": m.key,
                "ends_on": m.ends_on,
                "reason": reason,
                **({"backdated_because": backdated_because} if backdated_because else {}),
            },
        )
        # Dependents are judged as of today: with an end date still ahead they keep their
        # basis until then, and the daily check suspends them on that day.
        outcome = reevaluate_dependents(mechanism=m, by=by, on=today(), reason="")
        _mechanism_changed(m)
    return m, outcome


DAILY_CHECK = "transfers.daily_check"
DAILY_CHECK_NOT_BEFORE = time(2, 0)


def daily_check(*, now: datetime | None = None) -> dict | None:
    """``check_expiries`` once a day: on the first hourly tick from 02:00 UTC that finds no
    record of today's run. Every step of the check is idempotent (an ended mechanism is not
    ended again, a warning is not repeated, an expired request is skipped), so a tick that
    runs it twice changes nothing; ``check_expiries(on=today)`` also covers days missed."""
    from controlplane.audit.selectors import daily_run_due

    now = now or timezone.now()
    if not daily_run_due(DAILY_CHECK, now=now, not_before=DAILY_CHECK_NOT_BEFORE):
        return None
    summary = check_expiries(on=timezone.localdate(now))
    record_event(
        actor=SYSTEM,
        action=DAILY_CHECK,
        data={"day": now.date(), **{key: len(value) for key, value in summary.items()}},
    )
    return summary


def check_expiries(*, on: date | None = None, warn_days: int = EXPIRY_WARNING_DAYS) -> dict:
    """The daily job: end what expired, suspend what lost its TIA, warn ahead, expire requests."""
    on = on or today()
    summary = {"expired_mechanisms": [], "tia_lapsed": [], "warned": [], "expired_requests": []}
    for m in Mechanism.objects.filter(status=p.IN_FORCE, ends_on__lte=on):
        mechanism_end(
            mechanism=m,
            by=SYSTEM,
            status=p.EXPIRED,
            reason=f"Reached its end date {m.ends_on.isoformat()}.",
            ends_on=m.ends_on,
        )
        summary["expired_mechanisms"].append(m.key)
    ended_with_dependents = (
        Mechanism.objects.exclude(status=p.IN_FORCE)
        .filter(ends_on__lte=on, relied_on_by__status__in=IN_EFFECT)
        .distinct()
    )
    for m in ended_with_dependents:  # ended earlier with an end date that has now come
        reevaluate_dependents(mechanism=m, by=SYSTEM, on=on)
    contracts = Mechanism.objects.filter(
        status=p.IN_FORCE,
        kind__in=[p.KIND_SCC, p.KIND_IDTA, p.KIND_UK_ADDENDUM],
        relied_on_by__status__in=IN_EFFECT,
    ).distinct()
    for m in contracts:
        tia_end = m.tia_expires_on()
        if tia_end is None or tia_end <= on:
            outcome = reevaluate_dependents(
                mechanism=m,
                by=SYSTEM,
                on=on,
                reason=f"The TIA for {m.name} lapsed on {tia_end or 'an unknown date'}.",
            )
            if outcome["suspended"]:
                summary["tia_lapsed"].append(m.key)
    horizon = on + timedelta(days=warn_days)
    from controlplane.transfers.selectors import expiring_mechanisms

    for m, what, when in expiring_mechanisms(on=on, within_days=warn_days):
        if m.expiry_warned_on and m.expiry_warned_on >= on - timedelta(days=warn_days):
            continue
        with transaction.atomic():
            Mechanism.objects.filter(pk=m.pk).update(expiry_warned_on=on)
            record_event(
                actor=SYSTEM,
                action="mechanism.expiry_warning",
                obj=m,
                data={"what": what, "date": when, "horizon": horizon},
            )
        summary["warned"].append(m.key)
    for tr in TransferRequest.objects.filter(status__in=IN_EFFECT, expires_on__lte=on):
        with transaction.atomic():
            locked = _locked(tr)
            if locked.status not in IN_EFFECT:
                continue
            locked.status = TransferStatus.EXPIRED
            locked.ended_at = timezone.now()
            locked.end_reason = f"The approval expired on {locked.expires_on.isoformat()}."
            locked.save()
            record_event(actor=SYSTEM, action="transfer.expired", obj=locked)
            _transfers_ended([locked], SYSTEM)
            _regions_changed_on_commit(locked)
        summary["expired_requests"].append(tr.pk)
    return summary


# --------------------------------------------------------------------------------------------
# The transfer log
# --------------------------------------------------------------------------------------------


def transfer_record_create(
    *,
    by,
    source_region,
    destination_country,
    categories,
    volume: int,
    executed_at: datetime,
    destination_region=None,
    request: TransferRequest | None = None,
    exporter_name: str = "",
    importer_name: str = "",
    idempotency_key: str | None = None,
) -> TransferRecord:
    """Append one executed transfer; flag it as a violation when no approved request covers it.

    ``by`` is a user, an Actor (an agent) or None (the control plane itself).
    """
    if by is not None and not isinstance(by, Actor):
        ensure_may_change(by)
        if not can(by, "view", source_region):
            raise NotAllowed(f"You have no access to {source_region.slug}.")
    if idempotency_key:  # a key finds only its own region's record
        existing = TransferRecord.objects.filter(
            source_region=source_region, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            return existing
    if request is not None and request.source_region_id != source_region.pk:
        raise DomainError(
            f"{request} is not a request of {source_region.slug}; a record names a request of "
            "its own source region.",
            code="request_region",
        )
    keys = sorted({getattr(c, "key", c) for c in categories})
    known = set(DataCategory.objects.filter(key__in=keys).values_list("key", flat=True))
    unknown = [key for key in keys if key not in known]
    if unknown:
        raise ValidationError({"categories": f"Unknown data categories: {', '.join(unknown)}."})
    on = timezone.localdate(executed_at) if timezone.is_aware(executed_at) else executed_at.date()
    covering = covering_requests(
        categories=keys,
        on=on,
        source_region=source_region,
        destination_region=destination_region,
        destination_country=None if destination_region is not None else destination_country,
    )
    violation_reason = ""
    if request is not None:
        if request not in covering:
            violation_reason = (
                f"{request} does not cover this transfer on {on.isoformat()} "
                f"(status {request.get_status_display().lower()}, route or categories differ)."
            )
    elif covering:
        request = covering[0]
    else:
        violation_reason = "No approved transfer in effect covers this route and these categories."
    actor_label = getattr(by, "label", None) or (by.get_username() if by else "controlplane")
    with transaction.atomic():
        record = TransferRecord(
            request=request,
            source_region=source_region,
            destination_country=destination_country,
            destination_region=destination_region,
            exporter_name=exporter_name,
            importer_name=importer_name,
            categories=keys,
            volume=volume,
            executed_at=executed_at,
            legal_basis=(request.policy_basis if request and not violation_reason else ""),
            reported_by=actor_label,
            idempotency_key=idempotency_key,
            violation=bool(violation_reason),
            violation_reason=violation_reason,
        )
        record.full_clean()
        record.save()
        record_event(
            actor=by,
            action="transfer.violation" if record.violation else "transfer.recorded",
            obj=record,
            data={
                "request": request.pk if request else None,
                "categories": keys,
                "volume": volume,
                "violation": record.violation,
                "reason": violation_reason,
            },
        )
        if request is not None and not record.violation and request.status != "active":
            transfer_request_activate(request=request, by=by)
    return record


# --- The requester's own requests: edit or delete a draft, withdraw a submitted one ---------

DRAFT_FIELDS = (
    "source_region", "destination_region", "destination_country", "exporter", "exporter_role",
    "importer", "importer_role", "data_subjects", "purpose", "frequency", "volume_estimate",
    "derogation", "chosen_mechanism", "requested_expiry", "importer_scope", "exporter_scope",
    "hr_data", "art9_condition", "art10_authorisation", "tia_on", "tia_outcome",
    "derogation_facts", "onward_transfers",
)  # fmt: skip


def _own_request(request: TransferRequest, by, *, statuses, verb: str) -> TransferRequest:
    ensure_may_change(by)
    tr = _locked(request)
    if tr.requested_by_id != by.pk:
        raise NotAllowed(f"Only the person who made {tr} may {verb} it.")
    if tr.status not in statuses:
        allowed = " or ".join(str(TransferStatus(s).label).lower() for s in statuses)
        raise ConflictError(
            f"{tr} is {tr.get_status_display().lower()}; you can {verb} only a {allowed} request."
        )
    return tr


def _snapshot(tr: TransferRequest) -> dict:
    out = {}
    for name in DRAFT_FIELDS:
        value = getattr(tr, name)
        out[name] = value.pk if hasattr(value, "pk") else value
    return out


def transfer_request_update_draft(
    *, request: TransferRequest, by, data_categories=None, submit: bool = False, **changes
) -> TransferRequest:
    """Change a draft (the requester's own) and evaluate it again; ``submit`` submits it."""
    unknown = sorted(set(changes) - set(DRAFT_FIELDS))
    if unknown:
        raise ValidationError({unknown[0]: "This cannot be changed on a draft."})
    with transaction.atomic():
        tr = _own_request(request, by, statuses=[TransferStatus.DRAFT], verb="edit")
        before = _snapshot(tr)
        before_categories = sorted(tr.data_categories.values_list("key", flat=True))
        for name, value in changes.items():
            if value is None and name in ("importer_scope", "exporter_scope", "derogation_facts"):
                value = {}
            elif value is None and name in ("onward_transfers",):
                value = []
            elif value is None and name in ("art9_condition", "art10_authorisation", "tia_outcome"):
                value = ""
            setattr(tr, name, value)
        if tr.destination_country_id is None and tr.destination_region is not None:
            tr.destination_country = tr.destination_region.country
        tr.derogation = tr.derogation or ""
        tr.full_clean()
        tr.save()
        if data_categories is not None:
            categories = list(data_categories)
            if not categories:
                raise ValidationError({"data_categories": "Name at least one data category."})
            tr.data_categories.set(categories)
        evaluate_request(tr)
        tr.save()
        diff = _diff(before, _snapshot(tr))
        after_categories = sorted(tr.data_categories.values_list("key", flat=True))
        if after_categories != before_categories:
            diff["data_categories"] = {"from": before_categories, "to": after_categories}
        record_event(
            actor=by,
            action="transfer.draft_changed",
            obj=tr,
            data={"changes": diff, **_decision_summary(tr)},
        )
        if submit:
            tr = transfer_request_submit(request=tr, by=by)
    return tr


def transfer_request_delete_draft(*, request: TransferRequest, by) -> None:
    """Delete a draft (the requester's own); the trail keeps what it was."""
    with transaction.atomic():
        tr = _own_request(request, by, statuses=[TransferStatus.DRAFT], verb="delete")
        record_event(
            actor=by,
            action="transfer.draft_deleted",
            obj=tr,
            data={
                "purpose": tr.purpose,
                "source_region": tr.source_region.slug,
                "destination_country": tr.destination_country.code,
            },
        )
        tr.data_categories.clear()
        tr.delete()


def transfer_request_withdraw(*, request: TransferRequest, by, reason: str = "") -> TransferRequest:
    """The requester takes back a submitted request before any decision."""
    with transaction.atomic():
        tr = _own_request(request, by, statuses=[TransferStatus.SUBMITTED], verb="withdraw")
        tr.status = TransferStatus.WITHDRAWN
        tr.ended_at = timezone.now()
        tr.end_reason = (reason or "").strip() or "Withdrawn by the requester before a decision."
        tr.full_clean()
        tr.save()
        record_event(actor=by, action="transfer.withdrawn", obj=tr, data={"reason": tr.end_reason})
    return tr
