"""Writes to the model registry. Each checks, saves, and audits in one transaction.

Who may do what:

* registering models and versions, and requesting deployment: ML engineers (and superusers);
  a deployment request also needs view access to the target region;
* deciding a deployment: a user with ``approve_deployments`` on the region, never the person
  who requested it (four eyes); a blocked deployment cannot be approved, and a finding that
  asks for confirmation (federated models) must be confirmed explicitly;
* retiring an approved deployment: a deployment approver of the region, or an ML engineer who
  can see it (retiring only ever falls back to something a DPO approved before).

Every decision locks the model's row first, so concurrent decisions on one model serialise
and "one desired version per model per region" holds (a partial unique constraint backs it).
"""

from __future__ import annotations

from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from controlplane.audit.services import record_event
from controlplane.decisions import (
    APPROVED,
    REJECTED,
    conditions_of,
    first_decision_conflict,
    require_confirmed,
)
from controlplane.errors import ConflictError, DomainError, NotAllowed
from controlplane.modelregistry import policy as p
from controlplane.modelregistry.models import (
    OPEN_STATUSES,
    ArtifactLocation,
    DeploymentApproval,
    DeploymentStatus,
    MLModel,
    ModelVersion,
)
from controlplane.modelregistry.selectors import lineage_chain
from controlplane.permissions import Role, can, ensure_may_change, has_role, is_auditor
from controlplane.transfers.selectors import covering_requests

# --------------------------------------------------------------------------------------------
# Who
# --------------------------------------------------------------------------------------------


def may_register(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_superuser or has_role(user, Role.ML_ENGINEER))
    )


def _ensure_registrar(by) -> None:
    ensure_may_change(by)
    if not may_register(by):
        raise NotAllowed("Only ML engineers register models and request deployments.")


def may_request(user, region) -> bool:
    return may_register(user) and can(user, "view", region)


def may_decide(user, approval: DeploymentApproval) -> bool:
    return (
        can(user, "approve_deployments", approval.region)
        and approval.requested_by_id != user.pk
        and not is_auditor(user)
    )


def may_retire(user, approval: DeploymentApproval) -> bool:
    if is_auditor(user):
        return False
    return can(user, "approve_deployments", approval.region) or may_request(user, approval.region)


# --------------------------------------------------------------------------------------------
# Models and versions
# --------------------------------------------------------------------------------------------


def model_create(*, name: str, purpose: str, owner_team: str, by) -> MLModel:
    _ensure_registrar(by)
    with transaction.atomic():
        model = MLModel(name=name, purpose=purpose, owner_team=owner_team, created_by=by)
        model.full_clean()
        model.save()
        record_event(
            actor=by,
            action="model.created",
            obj=model,
            data={"name": name, "purpose": purpose, "owner_team": owner_team},
        )
    return model


def _check_lineage_sets(
    *, training_mode, contains_personal_data, jurisdictions, categories, regions
) -> None:
    errors = {}
    if contains_personal_data and not jurisdictions:
        errors["training_jurisdictions"] = (
            "Training data held personal data: name the jurisdictions it came from."
        )
    if contains_personal_data and not categories:
        errors["data_categories"] = "Training data held personal data: name its data categories."
    if training_mode == p.REGIONAL and len(jurisdictions) > 1:
        errors["training_jurisdictions"] = (
            "A regional model is trained inside one region, so on data of one jurisdiction."
        )
    if training_mode == p.FEDERATED:
        if len(regions) < 2:
            errors["participating_regions"] = "A federated model aggregates at least two regions."
        missing = {r.jurisdiction.code for r in regions} - {j.code for j in jurisdictions}
        if contains_personal_data and missing:
            errors["training_jurisdictions"] = (
                "The participating regions' jurisdictions are missing: "
                f"{', '.join(sorted(missing))}."
            )
    elif regions:
        errors["participating_regions"] = "Only federated versions have participating regions."
    if errors:
        raise ValidationError(errors)


def version_register(
    *,
    model: MLModel,
    version: str,
    digest: str,
    framework: str,
    training_mode: str,
    contains_personal_data: bool,
    training_jurisdictions=(),
    data_categories=(),
    base_version: ModelVersion | None = None,
    participating_regions=(),
    metrics: dict | None = None,
    artifacts: dict | None = None,
    notes: str = "",
    by,
) -> ModelVersion:
    """Register a version with its lineage; ``artifacts`` maps Region -> URI of a stored copy."""
    _ensure_registrar(by)
    jurisdictions = list(training_jurisdictions)
    categories = list(data_categories)
    regions = list(participating_regions)
    _check_lineage_sets(
        training_mode=training_mode,
        contains_personal_data=contains_personal_data,
        jurisdictions=jurisdictions,
        categories=categories,
        regions=regions,
    )
    with transaction.atomic():
        mv = ModelVersion(
            model=model,
            version=version,
            digest=digest,
            framework=framework,
            metrics=metrics if metrics is not None else {},
            notes=notes,
            training_mode=training_mode,
            contains_personal_data=contains_personal_data,
            base_version=base_version,
            registered_by=by,
        )
        mv.full_clean()
        mv.save()
        mv.training_jurisdictions.set(jurisdictions)
        mv.data_categories.set(categories)
        mv.participating_regions.set(regions)
        copies = []
        for region, uri in (artifacts or {}).items():
            copy = ArtifactLocation(version=mv, region=region, uri=uri)
            copy.full_clean()
            copy.save()
            copies.append(copy)
        record_event(
            actor=by,
            action="model_version.registered",
            obj=mv,
            data={
                "model": model.name,
                "version": version,
                "digest": digest,
                "framework": framework,
                "metrics": mv.metrics,
                "training_mode": training_mode,
                "contains_personal_data": contains_personal_data,
                "training_jurisdictions": sorted(j.code for j in jurisdictions),
                "data_categories": sorted(c.key for c in categories),
                "base_version": str(base_version) if base_version else None,
                "participating_regions": sorted(r.slug for r in regions),
                "artifacts": {c.region.slug: c.uri for c in copies},
            },
        )
    return mv


def artifact_location_add(*, version: ModelVersion, region, uri: str, by) -> ArtifactLocation:
    """Record a copy of the artifact in another region. Allowed on approved versions too."""
    _ensure_registrar(by)
    if not can(by, "view", region):
        raise NotAllowed(f"You have no access to {region.slug}.")
    with transaction.atomic():
        copy = ArtifactLocation(version=version, region=region, uri=uri)
        copy.full_clean()
        copy.save()
        record_event(
            actor=by,
            action="model_version.artifact_added",
            obj=version,
            data={"region": region.slug, "uri": uri, "digest": version.digest},
        )
        desired = DeploymentApproval.objects.filter(version=version, region=region, is_desired=True)
        if desired.exists():
            _desired_state_changed(region)
    return copy


# --------------------------------------------------------------------------------------------
# The cross-border check
# --------------------------------------------------------------------------------------------


def _step(mv: ModelVersion) -> p.LineageStep:
    return p.LineageStep(
        label=str(mv),
        training_mode=mv.training_mode,
        jurisdictions=frozenset(j.code for j in mv.training_jurisdictions.all()),
        categories=frozenset(c.key for c in mv.data_categories.all()),
        contains_personal_data=mv.contains_personal_data,
        participating_regions=tuple(sorted(r.slug for r in mv.participating_regions.all())),
    )


def deployment_facts(*, version: ModelVersion, region, chain=None) -> p.DeploymentFacts:
    chain, broken = chain if chain is not None else lineage_chain(version)
    return p.DeploymentFacts(
        chain=tuple(_step(mv) for mv in chain),
        target_region=region.slug,
        target_jurisdiction=region.jurisdiction.code,
        artifact_in_region=ArtifactLocation.objects.filter(version=version, region=region).exists(),
        chain_broken=broken,
    )


def _route_transfers(jurisdiction: str, region) -> list[p.CoveringTransfer]:
    return [
        p.CoveringTransfer(
            reference=str(tr),
            source_region=tr.source_region.slug,
            source_jurisdiction=jurisdiction,
            destination_region=region.slug,
            categories=frozenset(c.key for c in tr.data_categories.all()),
        )
        for tr in covering_requests(
            categories=[], source_jurisdiction=jurisdiction, destination_region=region
        )
    ]


def transfers_on_routes(
    *, facts: p.DeploymentFacts, region, routes: dict | None = None
) -> list[p.CoveringTransfer]:
    """Approved transfers in effect from each foreign lineage jurisdiction to ``region``.

    Every transfer on the route is handed to the pure check, which decides coverage and can
    then say which categories the existing transfers miss. ``routes`` memoises each (lineage
    jurisdiction, region) route for a pass over many deployments.
    """
    routes = {} if routes is None else routes
    found = []
    for jurisdiction in sorted(p.personal_data_by_jurisdiction(facts.chain)):
        if jurisdiction == facts.target_jurisdiction:
            continue
        key = (jurisdiction, region.pk)
        if key not in routes:
            routes[key] = _route_transfers(jurisdiction, region)
        found.extend(routes[key])
    return found


def check_deployment(
    *, version: ModelVersion, region, routes: dict | None = None
) -> p.DeploymentDecision:
    """Gather the facts and run the pure check (a handful of queries per lineage level).
    ``routes``: see ``transfers_on_routes``."""
    facts = deployment_facts(version=version, region=region)
    return p.evaluate_deployment(
        facts, transfers_on_routes(facts=facts, region=region, routes=routes)
    )


def _apply(approval: DeploymentApproval, decision: p.DeploymentDecision) -> None:
    approval.policy_allowed = decision.allowed
    approval.policy_findings = [f.as_dict() for f in decision.findings]
    approval.evaluated_at = timezone.now()


def _summary(approval: DeploymentApproval) -> dict:
    return {
        "model": approval.version.model.name,
        "version": approval.version.version,
        "digest": approval.version.digest,
        "region": approval.region.slug,
        "allowed": approval.policy_allowed,
        "codes": [f["code"] for f in approval.policy_findings],
    }


# --------------------------------------------------------------------------------------------
# Deployments
# --------------------------------------------------------------------------------------------


def _desired_state_changed(region) -> None:
    """THE call site for bundle publishing (issue 5): the region's desired models changed.

    ``publish_region_on_commit`` defers the build to ``transaction.on_commit``, so a rolled
    back decision publishes nothing and the bundle reads the committed state.
    """
    if not django_apps.is_installed("controlplane.distribution"):
        return
    from controlplane.distribution.services import publish_region_on_commit

    publish_region_on_commit(region)


def _open_deployment(version: ModelVersion, region) -> DeploymentApproval | None:
    """The requested or approved deployment of ``version`` to ``region`` (at most one: the
    ``one_open_deployment_per_version_region`` constraint)."""
    return DeploymentApproval.objects.filter(
        version=version, region=region, status__in=OPEN_STATUSES
    ).first()


def _already_open(version: ModelVersion, region, open_: DeploymentApproval) -> ConflictError:
    """The one answer to a duplicate request (409 ``duplicate``), however it was found."""
    return ConflictError(
        f"{version} already has a {open_.get_status_display().lower()} deployment to "
        f"{region.slug} ({open_}).",
        code="duplicate",
    )


def deployment_request(
    *, version: ModelVersion, region, by, justification: str = ""
) -> DeploymentApproval:
    """Ask for ``version`` to run in ``region``; the cross-border check runs at once."""
    _ensure_registrar(by)
    if not can(by, "view", region):
        raise NotAllowed(f"You have no access to {region.slug}.")
    with transaction.atomic():
        open_ = _open_deployment(version, region)
        if open_ is not None:
            raise _already_open(version, region, open_)
        approval = DeploymentApproval(
            version=version,
            model=version.model,
            region=region,
            requested_by=by,
            justification=(justification or "").strip(),
        )
        _apply(approval, check_deployment(version=version, region=region))
        try:
            approval.full_clean()
            with transaction.atomic():
                approval.save()
        except (ValidationError, IntegrityError):
            # An identical request committed after the check above: the model's unique
            # validation or, later still, the database's unique index found it. Same answer.
            open_ = _open_deployment(version, region)
            if open_ is None:
                raise
            raise _already_open(version, region, open_) from None
        record_event(
            actor=by,
            action="deployment.requested",
            obj=approval,
            data={**_summary(approval), "justification": approval.justification},
        )
    return approval


def _locked(approval: DeploymentApproval) -> DeploymentApproval:
    # The model's row first: every decision on one model serialises here.
    MLModel.objects.select_for_update().get(pk=approval.model_id)
    return (
        DeploymentApproval.objects.select_for_update(of=("self",))
        .select_related("version__model", "region__jurisdiction", "decided_by", "model")
        .get(pk=approval.pk)
    )


def ensure_may_decide(*, approval: DeploymentApproval, by) -> None:
    """Raise NotAllowed unless ``by`` may decide ``approval``; views call it before they read
    the decision, so a person without the right learns that, not what the form lacks."""
    ensure_may_change(by)
    _check_decider(approval, by)


def _check_decider(approval: DeploymentApproval, by) -> None:
    if not can(by, "approve_deployments", approval.region):
        raise NotAllowed(
            f"Only a user with deployment approval rights on {approval.region.slug} decides this."
        )
    if approval.requested_by_id == by.pk:
        raise NotAllowed("Four eyes: you cannot decide on a deployment you requested yourself.")


def _not_awaiting(approval: DeploymentApproval) -> ConflictError:
    """Names the decision that came first, not the deployment's later state (retired...)."""
    return first_decision_conflict(
        approval,
        decision=approval.decision,
        decided_by=approval.decided_by if approval.decided_by_id else None,
        decided_at=approval.decided_at,
        state=approval.get_status_display().lower(),
    )


def deployment_approve(
    *, approval: DeploymentApproval, by, note: str = "", confirmed=()
) -> DeploymentApproval:
    """Approve: the version becomes the region's desired version of its model, and frozen."""
    ensure_may_change(by)
    with transaction.atomic():
        approval = _locked(approval)
        _check_decider(approval, by)
        if approval.status != DeploymentStatus.REQUESTED:
            raise _not_awaiting(approval)
        decision = check_deployment(version=approval.version, region=approval.region)
        if not decision.allowed:
            codes = ", ".join(f.code for f in decision.blocking)
            raise DomainError(
                f"The cross-border check blocks {approval} ({codes}); a blocked deployment "
                "cannot be approved.",
                code="blocked",
            )
        confirmed = require_confirmed(
            conditions=conditions_of(decision.findings), confirmed=confirmed
        )
        now = timezone.now()
        previous = DeploymentApproval.objects.filter(
            model_id=approval.model_id, region_id=approval.region_id, is_desired=True
        ).first()
        if previous is not None:
            previous.is_desired = False
            previous.save(update_fields=["is_desired"])
        _apply(approval, decision)
        approval.status = DeploymentStatus.APPROVED
        approval.is_desired = True
        approval.decided_by = by
        approval.decided_at = now
        approval.decision_note = (note or "").strip()
        approval.confirmed = confirmed
        approval.full_clean()
        approval.save()
        ModelVersion.objects.filter(pk=approval.version_id, frozen_at__isnull=True).update(
            frozen_at=now
        )
        record_event(
            actor=by,
            action="deployment.approved",
            obj=approval,
            data={
                **_summary(approval),
                "decision": APPROVED,
                "note": approval.decision_note,
                "confirmed": approval.confirmed,
                "replaces": str(previous.version) if previous else None,
            },
        )
        _desired_state_changed(approval.region)
    return approval


def deployment_reject(*, approval: DeploymentApproval, by, reason: str) -> DeploymentApproval:
    ensure_may_change(by)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for the rejection."})
    with transaction.atomic():
        approval = _locked(approval)
        _check_decider(approval, by)
        if approval.status != DeploymentStatus.REQUESTED:
            raise _not_awaiting(approval)
        approval.status = DeploymentStatus.REJECTED
        approval.decided_by = by
        approval.decided_at = timezone.now()
        approval.decision_note = reason
        approval.save()
        record_event(
            actor=by,
            action="deployment.rejected",
            obj=approval,
            data={**_summary(approval), "decision": REJECTED, "reason": reason},
        )
    return approval


def _rollback_target(approval: DeploymentApproval):
    """The most recently approved version of the model in the region that the cross-border
    check still allows. A fallback that has become blocked since (a transfer it relied on
    ended) is passed over, stays approved but not desired, and the audit event names it."""
    candidates = (
        DeploymentApproval.objects.filter(
            model_id=approval.model_id,
            region_id=approval.region_id,
            status=DeploymentStatus.APPROVED,
        )
        .select_related("version__model", "region__jurisdiction")
        .order_by("-decided_at", "-pk")
    )
    skipped = {}
    for candidate in candidates:
        decision = check_deployment(version=candidate.version, region=candidate.region)
        if decision.allowed:
            return candidate, skipped
        skipped[str(candidate.version)] = [f.code for f in decision.blocking]
    return None, skipped


def deployment_retire(*, approval: DeploymentApproval, by, reason: str = "") -> DeploymentApproval:
    """Retire an approved deployment. Retiring the desired one rolls back to the previously
    approved version of the model in that region, or leaves the region without one."""
    ensure_may_change(by)
    with transaction.atomic():
        approval = _locked(approval)
        if not may_retire(by, approval):
            raise NotAllowed(
                f"Only a deployment approver of {approval.region.slug} or an ML engineer with "
                "access to it retires a deployment."
            )
        if approval.status != DeploymentStatus.APPROVED:
            raise ConflictError(
                f"{approval} is {approval.get_status_display().lower()}; only an approved "
                "deployment can be retired."
            )
        _retire(approval, by=by, reason=reason, action="deployment.retired")
    return approval


def _retire(approval: DeploymentApproval, *, by, reason: str, action: str, data=None) -> None:
    """Retire a locked, approved deployment and roll back if it was the desired one."""
    was_desired = approval.is_desired
    approval.status = DeploymentStatus.RETIRED
    approval.is_desired = False
    approval.retired_by = by if getattr(by, "is_authenticated", False) else None
    approval.retired_at = timezone.now()
    approval.retire_reason = (reason or "").strip()
    approval.save()
    fallback, skipped = None, {}
    if was_desired:
        fallback, skipped = _rollback_target(approval)
        if fallback is not None:
            fallback.is_desired = True
            fallback.save(update_fields=["is_desired"])
    record_event(
        actor=by,
        action=action,
        obj=approval,
        data={
            **_summary(approval),
            **(data or {}),
            "reason": approval.retire_reason,
            "was_desired": was_desired,
            "rolled_back_to": str(fallback.version) if fallback else None,
            "skipped_fallbacks": skipped,
        },
    )
    if was_desired:
        _desired_state_changed(approval.region)


def deployments_recheck(*, regions, by, reason, because=None) -> list[DeploymentApproval]:
    """Run the cross-border check again for every approved deployment in ``regions`` (one
    pass, one lock query) and withdraw those it now blocks (a transfer they relied on ended).
    Returns the withdrawn, and records a notice to each affected region's DPOs.

    ``reason`` is a string or ``fn(region) -> str``; ``because`` is ``fn(region) -> transfer``
    (the ended transfer that pointed at the region), kept on the withdrawn deployment so the
    mechanism's impact page can list it. Called inside the transaction that ended the
    transfers, so everything commits together.
    """
    withdrawn = []
    approved = (
        DeploymentApproval.objects.select_for_update(of=("self",))
        .filter(region__in=[r.pk for r in regions], status=DeploymentStatus.APPROVED)
        .select_related("version__model", "region__jurisdiction")
        .order_by("pk")
    )
    routes: dict = {}  # each (lineage jurisdiction, region) route read once for the pass
    for approval in approved:
        decision = check_deployment(version=approval.version, region=approval.region, routes=routes)
        if decision.allowed:
            continue
        _apply(approval, decision)
        text = reason(approval.region) if callable(reason) else reason
        cause = because(approval.region) if because else None
        approval.withdrawn_because = cause
        _retire(
            approval,
            by=by,
            reason=text,
            action="deployment.withdrawn",
            data={"codes": [f.code for f in decision.findings], "because": str(cause or "")},
        )
        withdrawn.append(approval)
    _notify_region_dpos(withdrawn, by=by)
    return withdrawn


def _notify_region_dpos(withdrawn, *, by) -> None:
    """Tell each region's DPOs what was withdrawn there. Until the notifications inbox exists
    this is a region-scoped audit event naming the recipients (the DPO sees it in the trail)."""
    from guardian.shortcuts import get_users_with_perms

    by_region: dict = {}
    for approval in withdrawn:
        by_region.setdefault(approval.region, []).append(approval)
    for region, approvals in by_region.items():
        recipients = get_users_with_perms(
            region, only_with_perms_in=["approve_deployments"], with_group_users=True
        )
        record_event(
            actor=by,
            action="deployment.withdrawal_notice",
            obj=region,
            data={
                "region": region.slug,
                "recipients": sorted(u.get_username() for u in recipients),
                "withdrawn": [str(a) for a in approvals],
                "because": sorted(
                    {str(a.withdrawn_because) for a in approvals if a.withdrawn_because}
                ),
            },
        )


def on_transfers_ended(*, transfers, by) -> None:
    """Transfers left effect: deployments in every region they pointed at (the destination
    region, or every region of the destination country) may have lost their basis."""
    from regions.models import Region

    causes: dict = {}  # region pk -> the first ended transfer pointing at it
    regions: dict = {}
    by_country: dict = {}
    for transfer in transfers:
        if transfer.destination_region_id:
            regions.setdefault(transfer.destination_region_id, transfer.destination_region)
            causes.setdefault(transfer.destination_region_id, transfer)
        else:  # a transfer to a country points at every region of that country
            by_country.setdefault(transfer.destination_country_id, transfer)
    if by_country:
        for region in Region.objects.filter(country_id__in=by_country).order_by("pk"):
            regions.setdefault(region.pk, region)
            causes.setdefault(region.pk, by_country[region.country_id])

    def reason(region):
        tr = causes[region.pk]
        return f"{tr} is {tr.get_status_display().lower()}: {tr.end_reason}"

    deployments_recheck(
        regions=list(regions.values()),
        by=by,
        reason=reason,
        because=lambda region: causes[region.pk],
    )
