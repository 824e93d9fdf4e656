"""Registering versions, deploying them, and the rules around it, against a real database."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from controlplane.audit.models import AuditEvent
from controlplane.errors import ConflictError, DomainError, NotAllowed
from controlplane.modelregistry import services
from controlplane.modelregistry.models import (
    DeploymentApproval,
    ModelVersion,
    VersionIsImmutable,
)
from controlplane.modelregistry.selectors import desired_versions_for_region, lineage_chain

from .conftest import digest

pytestmark = pytest.mark.django_db


def request_and_approve(version, region, *, by, approver, **kw):
    approval = services.deployment_request(version=version, region=region, by=by)
    return services.deployment_approve(approval=approval, by=approver, **kw)


# --- registration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    ["sha256:abc", "sha256:" + "G" * 64, "md5:" + "a" * 64, "a" * 64, "sha256:" + "A" * 64],
)
def test_the_digest_must_be_sha256_and_64_hex_characters(reg, bad):
    with pytest.raises(ValidationError) as error:
        services.version_register(
            model=reg.model,
            version="1.0",
            digest=bad,
            framework="onnx",
            training_mode="synthetic",
            contains_personal_data=False,
            by=reg.estate.ml_engineer,
        )
    assert "digest" in error.value.message_dict


def test_registration_is_audited_with_the_whole_lineage(reg):
    mv = reg.version("1.0", categories=("user.financial", "user.contact.email"))
    event = AuditEvent.objects.get(action="model_version.registered", object_id=str(mv.pk))
    assert event.actor_label == "ml-engineer"
    assert event.data["training_jurisdictions"] == ["EEA"]
    assert event.data["data_categories"] == ["user.contact.email", "user.financial"]
    assert event.data["digest"] == mv.digest
    assert set(event.data["artifacts"]) == {
        "eu-central",
        "eu-west",
        "uk-south",
        "us-east",
        "ap-northeast",
    }


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"mode": "transfer", "base": None}, "base_version"),
        ({"mode": "regional", "jurisdictions": ("EEA", "GB")}, "training_jurisdictions"),
        ({"mode": "regional", "jurisdictions": ()}, "training_jurisdictions"),
        ({"mode": "regional", "categories": ()}, "data_categories"),
        ({"mode": "federated", "regions": ()}, "participating_regions"),
    ],
)
def test_lineage_must_be_complete_and_coherent(reg, kwargs, field):
    with pytest.raises(ValidationError) as error:
        reg.version("1.0", **kwargs)
    assert field in error.value.message_dict


def test_synthetic_versions_hold_no_personal_data(reg):
    with pytest.raises(ValidationError) as error:
        services.version_register(
            model=reg.model,
            version="1.0",
            digest=digest(),
            framework="onnx",
            training_mode="synthetic",
            contains_personal_data=True,
            training_jurisdictions=[reg.jur["EEA"]],
            data_categories=[reg.cats["user.financial"]],
            by=reg.estate.ml_engineer,
        )
    assert "contains_personal_data" in error.value.message_dict


def test_only_ml_engineers_register(reg):
    for user in (reg.estate.dpo_eu, reg.estate.requester, reg.estate.auditor):
        with pytest.raises(NotAllowed):
            services.model_create(name=f"m-{user.pk}", purpose="x", owner_team="y", by=user)


def test_lineage_chain_follows_every_base(reg):
    v1 = reg.version("1", mode="synthetic", personal=False)
    v2 = reg.version("2", mode="transfer", personal=False, base=v1)
    v3 = reg.version("3", mode="transfer", personal=False, base=v2)
    chain, broken = lineage_chain(v3)
    assert [v.version for v in chain] == ["3", "2", "1"]
    assert broken == ""


def test_a_base_that_would_make_a_loop_is_refused(reg):
    v1 = reg.version("1", mode="synthetic", personal=False)
    v2 = reg.version("2", mode="transfer", personal=False, base=v1)
    v1.base_version = v2
    with pytest.raises(ValidationError) as error:
        v1.full_clean()
    assert "loop" in str(error.value)


# --- immutability --------------------------------------------------------------------------


@pytest.fixture
def approved_version(reg):
    mv = reg.version("1.0")
    request_and_approve(
        mv, reg.estate.eu_central, by=reg.estate.ml_engineer, approver=reg.estate.dpo_eu
    )
    mv.refresh_from_db()
    return mv


def test_a_version_can_change_until_a_region_approves_it(reg):
    mv = reg.version("1.0")
    services.deployment_request(version=mv, region=reg.estate.eu_central, by=reg.estate.ml_engineer)
    mv.notes = "still editable while only requested"
    mv.save()
    mv.data_categories.add(reg.cats["user.contact.email"])
    assert mv.frozen_at is None


def test_an_approved_version_is_immutable(approved_version, reg):
    mv = approved_version
    assert mv.frozen_at is not None
    original = ModelVersion.objects.get(pk=mv.pk).digest

    mv.digest = digest("tampered")
    with pytest.raises(VersionIsImmutable):
        mv.save()
    with pytest.raises(VersionIsImmutable):
        ModelVersion.objects.filter(pk=mv.pk).update(contains_personal_data=False)
    # Many-to-many writes run in Django's own atomic block: give each a savepoint.
    with pytest.raises(VersionIsImmutable), transaction.atomic():
        mv.data_categories.add(reg.cats["user.contact.email"])
    with pytest.raises(VersionIsImmutable), transaction.atomic():
        mv.training_jurisdictions.clear()
    with pytest.raises(VersionIsImmutable), transaction.atomic():
        mv.participating_regions.add(reg.estate.us_east)
    fresh = ModelVersion.objects.get(pk=mv.pk)
    with pytest.raises(VersionIsImmutable):
        fresh.delete()
    fresh.frozen_at = None
    with pytest.raises(VersionIsImmutable):
        fresh.save()

    stored = ModelVersion.objects.with_lineage().get(pk=mv.pk)
    assert stored.digest == original
    assert [c.key for c in stored.data_categories.all()] == ["user.financial"]
    assert [j.code for j in stored.training_jurisdictions.all()] == ["EEA"]


def test_a_rejected_request_does_not_freeze_the_version(reg):
    mv = reg.version("1.0")
    approval = services.deployment_request(
        version=mv, region=reg.estate.eu_central, by=reg.estate.ml_engineer
    )
    services.deployment_reject(approval=approval, by=reg.estate.dpo_eu, reason="Not yet")
    mv.refresh_from_db()
    assert mv.frozen_at is None


def test_a_new_artifact_copy_is_not_a_change(approved_version, reg):
    approved_version.artifacts.filter(region=reg.estate.us_east).delete()
    copy = services.artifact_location_add(
        version=approved_version,
        region=reg.estate.us_east,
        uri="s3://models-us-east/fraud/1.0",
        by=reg.estate.ml_engineer,
    )
    assert copy.pk


# --- deployment: four eyes, scope, desired state, rollback --------------------------------


def test_four_eyes_the_requester_cannot_decide(reg, make_user):
    both = make_user(
        "ml-engineer",
        view=[reg.estate.eu_central],
        approve_deployments=[reg.estate.eu_central],
    )
    mv = reg.version("1.0")
    approval = services.deployment_request(version=mv, region=reg.estate.eu_central, by=both)
    with pytest.raises(NotAllowed, match="Four eyes"):
        services.deployment_approve(approval=approval, by=both)
    with pytest.raises(NotAllowed, match="Four eyes"):
        services.deployment_reject(approval=approval, by=both, reason="no")
    approval.refresh_from_db()
    assert approval.status == "requested"
    services.deployment_approve(approval=approval, by=reg.estate.dpo_eu)


def test_only_an_approver_of_that_region_decides(reg):
    mv = reg.version("1.0")
    approval = services.deployment_request(
        version=mv, region=reg.estate.eu_central, by=reg.estate.ml_engineer
    )
    for outsider in (reg.estate.dpo_uk, reg.estate.dpo_us, reg.estate.requester):
        with pytest.raises(NotAllowed):
            services.deployment_approve(approval=approval, by=outsider)
    with pytest.raises(NotAllowed, match="read-only"):
        services.deployment_approve(approval=approval, by=reg.estate.auditor)
    approval.refresh_from_db()
    assert approval.status == "requested"


def test_a_deployment_needs_view_access_to_the_region(reg, make_user):
    eu_only = make_user("ml-engineer", view=[reg.estate.eu_central])
    mv = reg.version("1.0")
    with pytest.raises(NotAllowed):
        services.deployment_request(version=mv, region=reg.estate.us_east, by=eu_only)
    assert services.deployment_request(version=mv, region=reg.estate.eu_central, by=eu_only)


def test_one_open_request_per_version_and_region(reg):
    mv = reg.version("1.0")
    services.deployment_request(version=mv, region=reg.estate.eu_central, by=reg.estate.ml_engineer)
    with pytest.raises(ConflictError):
        services.deployment_request(
            version=mv, region=reg.estate.eu_central, by=reg.estate.ml_engineer
        )


def test_a_decided_request_cannot_be_decided_again(reg):
    mv = reg.version("1.0")
    approval = request_and_approve(
        mv, reg.estate.eu_central, by=reg.estate.ml_engineer, approver=reg.estate.dpo_eu
    )
    with pytest.raises(ConflictError, match="already approved by dpo-eu"):
        services.deployment_reject(approval=approval, by=reg.estate.dpo_eu, reason="late")


def test_the_409_names_the_first_decision_after_a_retirement(reg):
    """Issue 13 point 6: approved by dpo-eu, retired since; a late decision hears who approved
    it first (and that it is retired now), not "already retired by dpo-eu"."""
    mv = reg.version("1.0")
    approval = request_and_approve(
        mv, reg.estate.eu_central, by=reg.estate.ml_engineer, approver=reg.estate.dpo_eu
    )
    services.deployment_retire(approval=approval, by=reg.estate.dpo_eu, reason="old")
    with pytest.raises(ConflictError) as late:
        services.deployment_reject(approval=approval, by=reg.estate.dpo_eu, reason="late")
    assert "already approved by dpo-eu" in str(late.value)
    assert "it is retired now" in str(late.value)


def test_approval_makes_the_version_desired_and_replaces_the_previous_one(reg):
    e = reg.estate
    v1, v2 = reg.version("1.0"), reg.version("1.1")
    a1 = request_and_approve(v1, e.eu_central, by=e.ml_engineer, approver=e.dpo_eu)
    assert desired_versions_for_region(e.eu_central) == [
        {
            "name": "fraud",
            "version": "1.0",
            "digest": v1.digest,
            "artifact_uri": "s3://models-eu-central/1.0",
            "training_mode": "regional",
        }
    ]
    a2 = request_and_approve(v2, e.eu_central, by=e.ml_engineer, approver=e.dpo_eu)
    a1.refresh_from_db()
    assert (a1.status, a1.is_desired) == ("approved", False)
    assert (a2.status, a2.is_desired) == ("approved", True)
    assert [d["version"] for d in desired_versions_for_region(e.eu_central)] == ["1.1"]
    assert desired_versions_for_region(e.eu_west) == []


def test_retiring_the_desired_version_rolls_back_to_the_previous_approved_one(reg):
    e = reg.estate
    v1, v2, v3 = reg.version("1.0"), reg.version("1.1"), reg.version("1.2")
    request_and_approve(v1, e.eu_central, by=e.ml_engineer, approver=e.dpo_eu)
    a2 = request_and_approve(v2, e.eu_central, by=e.ml_engineer, approver=e.dpo_eu)
    a3 = request_and_approve(v3, e.eu_central, by=e.ml_engineer, approver=e.dpo_eu)
    # The same model elsewhere is unaffected.
    request_and_approve(v1, e.eu_west, by=e.ml_engineer, approver=e.dpo_eu)

    services.deployment_retire(approval=a3, by=e.dpo_eu, reason="regression in recall")
    assert [d["version"] for d in desired_versions_for_region(e.eu_central)] == ["1.1"]
    event = AuditEvent.objects.filter(action="deployment.retired").latest("sequence")
    assert event.data["rolled_back_to"] == "fraud 1.1"
    assert event.data["was_desired"] is True

    services.deployment_retire(approval=a2, by=e.ml_engineer)
    assert [d["version"] for d in desired_versions_for_region(e.eu_central)] == ["1.0"]
    assert [d["version"] for d in desired_versions_for_region(e.eu_west)] == ["1.0"]


def test_retiring_the_last_approved_version_leaves_none(reg):
    e = reg.estate
    a = request_and_approve(reg.version("1.0"), e.eu_central, by=e.ml_engineer, approver=e.dpo_eu)
    services.deployment_retire(approval=a, by=e.dpo_eu)
    assert desired_versions_for_region(e.eu_central) == []
    a.refresh_from_db()
    assert (a.status, a.is_desired, a.retired_by) == ("retired", False, e.dpo_eu)
    with pytest.raises(ConflictError):
        services.deployment_retire(approval=a, by=e.dpo_eu)


def test_retiring_a_fallback_keeps_the_desired_version(reg):
    e = reg.estate
    a1 = request_and_approve(reg.version("1.0"), e.eu_central, by=e.ml_engineer, approver=e.dpo_eu)
    request_and_approve(reg.version("1.1"), e.eu_central, by=e.ml_engineer, approver=e.dpo_eu)
    services.deployment_retire(approval=a1, by=e.dpo_eu)
    assert [d["version"] for d in desired_versions_for_region(e.eu_central)] == ["1.1"]


def test_retiring_needs_rights_on_the_region(reg):
    e = reg.estate
    a = request_and_approve(reg.version("1.0"), e.eu_central, by=e.ml_engineer, approver=e.dpo_eu)
    for outsider in (e.dpo_us, e.requester, e.auditor):
        with pytest.raises(NotAllowed):
            services.deployment_retire(approval=a, by=outsider)


def test_the_database_allows_one_desired_version_per_model_and_region(reg):
    e = reg.estate
    a1 = request_and_approve(reg.version("1.0"), e.eu_central, by=e.ml_engineer, approver=e.dpo_eu)
    a2 = request_and_approve(reg.version("1.1"), e.eu_central, by=e.ml_engineer, approver=e.dpo_eu)
    assert not DeploymentApproval.objects.get(pk=a1.pk).is_desired
    with pytest.raises(IntegrityError), transaction.atomic():
        DeploymentApproval.objects.filter(pk=a1.pk).update(is_desired=True)
    assert DeploymentApproval.objects.get(pk=a2.pk).is_desired


def test_every_step_is_audited(reg):
    e = reg.estate
    mv = reg.version("1.0")
    a = services.deployment_request(
        version=mv, region=e.eu_central, by=e.ml_engineer, justification="go live"
    )
    services.deployment_approve(approval=a, by=e.dpo_eu, note="ok")
    services.deployment_retire(approval=a, by=e.dpo_eu, reason="done")
    actions = list(
        AuditEvent.objects.filter(object_type="modelregistry.deploymentapproval")
        .order_by("sequence")
        .values_list("action", "actor_label")
    )
    assert actions == [
        ("deployment.requested", "ml-engineer"),
        ("deployment.approved", "dpo-eu"),
        ("deployment.retired", "dpo-eu"),
    ]
    approved = AuditEvent.objects.get(action="deployment.approved")
    assert approved.data["digest"] == mv.digest and approved.data["region"] == "eu-central"


def test_approval_and_retirement_republish_the_region_on_commit(
    reg, django_capture_on_commit_callbacks
):
    e = reg.estate
    mv = reg.version("1.0")
    with django_capture_on_commit_callbacks() as requested:
        a = services.deployment_request(version=mv, region=e.eu_central, by=e.ml_engineer)
    with django_capture_on_commit_callbacks() as approved:
        services.deployment_approve(approval=a, by=e.dpo_eu)
    with django_capture_on_commit_callbacks() as retired:
        services.deployment_retire(approval=a, by=e.dpo_eu)

    def publishes(callbacks):  # other work may follow a commit too (kept panels' generation)
        return [c for c in callbacks if "publish" in getattr(c, "__qualname__", "")]

    assert len(publishes(requested)) == 0
    assert len(publishes(approved)) == 1 and len(publishes(retired)) == 1


# --- the cross-border check through the services ------------------------------------------


def test_eea_model_to_an_eea_region_is_allowed(reg):
    e = reg.estate
    a = services.deployment_request(version=reg.version("1.0"), region=e.eu_west, by=e.ml_engineer)
    assert a.policy_allowed
    assert [f["code"] for f in a.policy_findings] == ["SAME_JURISDICTION"]


def test_eea_model_to_us_east_is_blocked_without_a_transfer_and_cannot_be_approved(reg):
    e = reg.estate
    a = services.deployment_request(version=reg.version("1.0"), region=e.us_east, by=e.ml_engineer)
    assert not a.policy_allowed
    assert [f["code"] for f in a.policy_findings] == ["NO_COVERING_TRANSFER"]
    with pytest.raises(DomainError) as error:
        services.deployment_approve(approval=a, by=e.dpo_us)
    assert error.value.code == "blocked"
    a.refresh_from_db()
    assert a.status == "requested"
    assert desired_versions_for_region(e.us_east) == []


def test_eea_model_to_us_east_with_an_approved_transfer_is_allowed(reg, approved_transfer):
    e = reg.estate
    tr = approved_transfer(["user.financial"])
    a = services.deployment_request(version=reg.version("1.0"), region=e.us_east, by=e.ml_engineer)
    assert a.policy_allowed, a.policy_findings
    assert [f["code"] for f in a.policy_findings] == ["TRANSFER_COVERS"]
    assert str(tr) in a.policy_findings[0]["message"]
    services.deployment_approve(approval=a, by=e.dpo_us)
    assert [d["version"] for d in desired_versions_for_region(e.us_east)] == ["1.0"]


def test_a_transfer_of_other_categories_does_not_cover_the_model(reg, approved_transfer):
    e = reg.estate
    approved_transfer(["user.contact.email"])
    a = services.deployment_request(version=reg.version("1.0"), region=e.us_east, by=e.ml_engineer)
    assert not a.policy_allowed
    assert "do not cover: user.financial" in a.policy_findings[0]["message"]


def test_a_transfer_approved_after_the_request_unblocks_the_approval(reg, approved_transfer):
    e = reg.estate
    a = services.deployment_request(version=reg.version("1.0"), region=e.us_east, by=e.ml_engineer)
    assert not a.policy_allowed
    approved_transfer(["user.financial"])
    a = services.deployment_approve(approval=a, by=e.dpo_us)
    assert a.policy_allowed and a.status == "approved"


def test_synthetic_base_chain_deploys_anywhere(reg):
    e = reg.estate
    base = reg.version("0.9", mode="synthetic", personal=False)
    tuned = reg.version("1.0", mode="transfer", personal=False, base=base)
    for region in (e.us_east, e.ap_northeast, e.uk_south):
        approver = {"uk-south": e.dpo_uk}.get(region.slug, e.dpo_us)
        a = request_and_approve(tuned, region, by=e.ml_engineer, approver=approver)
        assert a.status == "approved"
        assert [f["code"] for f in a.policy_findings] == ["NO_PERSONAL_DATA_IN_LINEAGE"]


def test_a_transfer_model_follows_the_chain_two_levels_down(reg):
    e = reg.estate
    root = reg.version("1", personal=True, jurisdictions=("EEA",), categories=("user.content",))
    middle = reg.version("2", mode="transfer", personal=False, base=root)
    top = reg.version("3", mode="transfer", personal=False, base=middle)
    blocked = services.deployment_request(version=top, region=e.us_east, by=e.ml_engineer)
    assert not blocked.policy_allowed
    assert "fraud 1" in blocked.policy_findings[0]["message"]
    allowed = services.deployment_request(version=top, region=e.eu_west, by=e.ml_engineer)
    assert allowed.policy_allowed


def test_federated_needs_the_approver_to_confirm_parameters_only(reg):
    e = reg.estate
    federated = reg.version(
        "g1",
        mode="federated",
        jurisdictions=("EEA", "US"),
        regions=(e.eu_central, e.us_east),
    )
    a = services.deployment_request(version=federated, region=e.us_east, by=e.ml_engineer)
    assert a.policy_allowed
    assert a.needs_confirmation == ["FEDERATED_CONFIRM_PARAMETERS_ONLY"]
    with pytest.raises(DomainError) as error:
        services.deployment_approve(approval=a, by=e.dpo_us)
    assert error.value.code == "confirmation_required"
    a = services.deployment_approve(
        approval=a, by=e.dpo_us, confirmed=["FEDERATED_CONFIRM_PARAMETERS_ONLY"]
    )
    assert a.confirmed == ["FEDERATED_CONFIRM_PARAMETERS_ONLY"]
    event = AuditEvent.objects.get(action="deployment.approved")
    assert event.data["confirmed"] == ["FEDERATED_CONFIRM_PARAMETERS_ONLY"]


@pytest.mark.parametrize(
    "uri, ok",
    [
        ("abfss://models@euwest.dfs.core.windows.net/fraud/1.0", True),
        ("s3://models-eu-central/fraud/1.0", True),
        ("https://user:secret@models.example.com/fraud/1.0", False),
        ("models-eu-central/fraud/1.0", False),
    ],
)
def test_artifact_uris_have_a_scheme_and_no_credentials(reg, uri, ok):
    mv = reg.version("1.0", artifacts={})
    call = lambda: services.artifact_location_add(  # noqa: E731
        version=mv, region=reg.estate.eu_west, uri=uri, by=reg.estate.ml_engineer
    )
    if ok:
        assert call().uri == uri
    else:
        with pytest.raises(ValidationError):
            call()


def test_ending_the_covering_transfer_withdraws_the_deployment_and_rolls_back(
    reg, approved_transfer
):
    from controlplane.transfers import services as transfer_services

    e = reg.estate
    tr = approved_transfer(["user.financial"])
    synthetic = request_and_approve(
        reg.version("0.9", mode="synthetic", personal=False),
        e.us_east,
        by=e.ml_engineer,
        approver=e.dpo_us,
    )
    eea = request_and_approve(reg.version("1.0"), e.us_east, by=e.ml_engineer, approver=e.dpo_us)
    assert [d["version"] for d in desired_versions_for_region(e.us_east)] == ["1.0"]

    transfer_services.transfer_request_revoke(request=tr, by=e.dpo_eu, reason="contract ended")

    eea.refresh_from_db()
    synthetic.refresh_from_db()
    assert eea.status == "retired" and not eea.is_desired
    assert "contract ended" in eea.retire_reason
    assert synthetic.status == "approved" and synthetic.is_desired
    assert [d["version"] for d in desired_versions_for_region(e.us_east)] == ["0.9"]
    event = AuditEvent.objects.get(action="deployment.withdrawn", object_id=str(eea.pk))
    assert event.actor_label == "dpo-eu"
    assert event.data["codes"] == ["NO_COVERING_TRANSFER"]
    assert event.data["rolled_back_to"] == "fraud 0.9"
    # The withdrawal was written in the same transaction, right after the revocation.
    revoked = AuditEvent.objects.get(action="transfer.revoked", object_id=str(tr.pk))
    assert event.sequence == revoked.sequence + 1


def test_a_deployment_still_covered_by_another_transfer_stays(reg, approved_transfer):
    from controlplane.transfers import services as transfer_services

    e = reg.estate
    first = approved_transfer(["user.financial"])
    approved_transfer(["user.financial", "user.name"])
    eea = request_and_approve(reg.version("1.0"), e.us_east, by=e.ml_engineer, approver=e.dpo_us)

    transfer_services.transfer_request_revoke(request=first, by=e.dpo_eu, reason="replaced")

    eea.refresh_from_db()
    assert eea.status == "approved" and eea.is_desired
    assert not AuditEvent.objects.filter(action="deployment.withdrawn").exists()


def test_a_transfer_suspended_when_its_mechanism_ends_withdraws_dependent_deployments(
    reg, approved_transfer
):
    from controlplane.transfers import services as transfer_services

    e = reg.estate
    tr = approved_transfer(["user.financial"])
    eea = request_and_approve(reg.version("1.0"), e.us_east, by=e.ml_engineer, approver=e.dpo_us)

    transfer_services.mechanism_end(
        mechanism=tr.policy_mechanism, by=e.dpo_eu, status="suspended", reason="court ruling"
    )

    tr.refresh_from_db()
    eea.refresh_from_db()
    assert tr.status == "suspended"
    assert eea.status == "retired"
    assert desired_versions_for_region(e.us_east) == []


def test_rollback_passes_over_a_fallback_that_the_check_now_blocks(reg, approved_transfer):
    """Belt and braces: a fallback blocked for any reason is never made desired again."""
    from controlplane.transfers.models import TransferRequest

    e = reg.estate
    tr = approved_transfer(["user.financial"])
    eea = reg.version("1.0")  # EEA personal data: allowed in us-east only thanks to tr
    synthetic = reg.version("0.9", mode="synthetic", personal=False)
    request_and_approve(synthetic, e.us_east, by=e.ml_engineer, approver=e.dpo_us)
    request_and_approve(eea, e.us_east, by=e.ml_engineer, approver=e.dpo_us)
    newest = request_and_approve(
        reg.version("1.1", mode="synthetic", personal=False),
        e.us_east,
        by=e.ml_engineer,
        approver=e.dpo_us,
    )
    # The transfer stops covering without going through the services (no withdrawal ran).
    TransferRequest.objects.filter(pk=tr.pk).update(status="revoked")

    services.deployment_retire(approval=newest, by=e.dpo_us)
    assert [d["version"] for d in desired_versions_for_region(e.us_east)] == ["0.9"]
    event = AuditEvent.objects.filter(action="deployment.retired").latest("sequence")
    assert event.data["skipped_fallbacks"] == {"fraud 1.0": ["NO_COVERING_TRANSFER"]}
