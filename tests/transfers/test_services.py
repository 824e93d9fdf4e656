"""The request lifecycle, four eyes, region scope, mechanism endings and the transfer log."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from controlplane.audit.models import AuditEvent
from controlplane.errors import ConflictError, DomainError, NotAllowed
from controlplane.transfers import policy as p
from controlplane.transfers import selectors, services
from controlplane.transfers.models import (
    Mechanism,
    TransferRecord,
    TransferRecordIsImmutable,
    TransferRequest,
)

pytestmark = pytest.mark.django_db


def actions_for(obj):
    return list(
        AuditEvent.objects.filter(object_type=f"transfers.{obj._meta.model_name}", object_id=obj.pk)
        .order_by("sequence")
        .values_list("action", flat=True)
    )


def test_submit_stores_the_engine_verdict_and_audits(new_request, world):
    tr = new_request()
    assert tr.status == "submitted" and tr.submitted_at
    assert tr.policy_allowed and tr.policy_basis == "scc"
    assert tr.policy_mechanism == world.scc
    assert "SCC_IN_FORCE" in [f["code"] for f in tr.policy_findings]
    assert actions_for(tr) == ["transfer.created", "transfer.submitted"]


def test_special_categories_are_flagged_on_the_row(new_request, world):
    tr = new_request(data_categories=[world.email, world.health])
    assert tr.has_special_categories
    assert "SPECIAL_CATEGORY_NEEDS_DPO" in [f["code"] for f in tr.policy_findings]


def test_dpo_of_the_source_region_approves_with_conditions_and_expiry(new_request, world):
    tr = new_request()
    expiry = timezone.localdate() + timedelta(days=200)
    tr = services.transfer_request_approve(
        request=tr, by=world.estate.dpo_eu, conditions="Pseudonymise first.", expires_on=expiry
    )
    tr.refresh_from_db()
    assert (tr.status, tr.decided_by, tr.conditions, tr.expires_on) == (
        "approved",
        world.estate.dpo_eu,
        "Pseudonymise first.",
        expiry,
    )
    assert actions_for(tr)[-1] == "transfer.approved"


def test_four_eyes_nobody_decides_their_own_request(new_request, world):
    dpo = world.estate.dpo_eu
    tr = new_request(by=dpo)
    with pytest.raises(NotAllowed, match="Four eyes"):
        services.transfer_request_approve(request=tr, by=dpo)
    with pytest.raises(NotAllowed, match="Four eyes"):
        services.transfer_request_reject(request=tr, by=dpo, reason="no")
    tr.refresh_from_db()
    assert tr.status == "submitted" and tr.decided_by is None


def test_a_dpo_of_another_region_cannot_decide(new_request, world):
    tr = new_request()
    with pytest.raises(NotAllowed, match="eu-central"):
        services.transfer_request_approve(request=tr, by=world.estate.dpo_us)
    tr.refresh_from_db()
    assert tr.status == "submitted" and tr.decided_by is None


def test_requester_and_auditor_cannot_decide(new_request, world):
    tr = new_request()
    for user in (world.estate.ml_engineer, world.estate.auditor):
        with pytest.raises(NotAllowed):
            services.transfer_request_approve(request=tr, by=user)
    tr.refresh_from_db()
    assert tr.status == "submitted"


def test_a_blocked_request_cannot_be_approved(new_request, world):
    # Stated, not left open: an importer declared NOT on the DPF list is outside the EU-US
    # decision's scope (Implementing Decision (EU) 2023/1795, Art. 1).
    tr = new_request(
        importer=world.plain_us,
        destination_country=world.plain_us.country,
        importer_scope={"EU-US-DPF": False},
    )
    assert not tr.policy_allowed
    with pytest.raises(DomainError, match="blocked|blocks"):
        services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    tr.refresh_from_db()
    assert tr.status == "submitted"
    # It can still be rejected, with a reason.
    services.transfer_request_reject(request=tr, by=world.estate.dpo_eu, reason="No SCCs yet.")
    tr.refresh_from_db()
    assert tr.status == "rejected" and tr.rejection_reason == "No SCCs yet."


def test_rejection_needs_a_reason(new_request, world):
    tr = new_request()
    with pytest.raises(ValidationError):
        services.transfer_request_reject(request=tr, by=world.estate.dpo_eu, reason="  ")
    tr.refresh_from_db()
    assert tr.status == "submitted"


def test_the_second_decision_is_refused_with_a_clear_message(new_request, world, make_user):
    other_dpo = make_user(
        "dpo", view=[world.estate.eu_central], approve_transfers=[world.estate.eu_central]
    )
    tr = new_request()
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    with pytest.raises(ConflictError, match="already approved by dpo-eu"):
        services.transfer_request_reject(request=tr, by=other_dpo, reason="too late")
    tr.refresh_from_db()
    assert tr.status == "approved" and tr.decided_by == world.estate.dpo_eu


def test_engine_re_evaluates_at_approval_time(new_request, world):
    tr = new_request()
    world.scc.tia_outcome = p.TIA_DO_NOT_TRANSFER
    world.scc.save()
    with pytest.raises(DomainError, match="TIA_NEGATIVE"):
        services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)


def test_only_the_author_submits_a_draft(new_request, world):
    tr = new_request(submit=False)
    assert tr.status == "draft"
    with pytest.raises(NotAllowed):
        services.transfer_request_submit(request=tr, by=world.estate.dpo_eu)
    services.transfer_request_submit(request=tr, by=world.estate.requester)
    with pytest.raises(ConflictError):
        services.transfer_request_submit(request=tr, by=world.estate.requester)


def test_requester_cannot_create_in_a_region_they_cannot_see(new_request, world):
    with pytest.raises(NotAllowed):
        new_request(source_region=world.estate.uk_south)
    assert not TransferRequest.objects.exists()


# --- mechanisms ending ------------------------------------------------------------------------


def test_ending_a_mechanism_audits_every_request_it_re_evaluates(new_request, world):
    """Suspended, moved to another basis, or awaiting a decision: each gets its event (requests
    awaiting their DPO had their findings rewritten without one)."""
    from controlplane.audit.models import AuditEvent

    in_effect = new_request()
    services.transfer_request_approve(request=in_effect, by=world.estate.dpo_eu)
    pending = new_request(purpose="Still waiting")
    _, outcome = services.mechanism_end(
        mechanism=world.scc, by=world.estate.dpo_eu, status=p.REVOKED, reason="Breach."
    )
    re_evaluated = {t.pk for key in ("suspended", "rebased", "refreshed") for t in outcome[key]}
    assert re_evaluated == {in_effect.pk, pending.pk}
    events = AuditEvent.objects.filter(
        action__in=["transfer.suspended", "transfer.reevaluated"],
        object_type="transfers.transferrequest",
    ).exclude(sequence__lt=AuditEvent.objects.get(action="mechanism.revoked").sequence)
    assert {int(e.object_id) for e in events} == re_evaluated
    waiting = events.get(object_id=str(pending.pk))
    assert waiting.action == "transfer.reevaluated" and waiting.data["pending"] is True
    assert waiting.data["after"] == world.scc.key and waiting.region == "eu-central"


def test_revoking_a_mechanism_suspends_dependents_and_lists_them(new_request, world, client):
    kept = new_request()
    other = new_request(purpose="Second flow")
    for tr in (kept, other):
        services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    pending = new_request(purpose="Still waiting")
    m, outcome = services.mechanism_end(
        mechanism=world.scc,
        by=world.estate.dpo_eu,
        status=p.REVOKED,
        reason="Importer breached clause 14.",
    )
    assert m.status == "revoked" and m.ends_on == timezone.localdate()
    assert {t.pk for t in outcome["suspended"]} == {kept.pk, other.pk}
    assert [t.pk for t in outcome["refreshed"]] == [pending.pk]
    kept.refresh_from_db()
    assert kept.status == "suspended" and kept.suspended_because == m
    assert not kept.policy_allowed and "MECHANISM_REVOKED" in [
        f["code"] for f in kept.policy_findings
    ]
    assert actions_for(kept)[-1] == "transfer.suspended"
    assert actions_for(m)[-1] == "mechanism.revoked"
    pending.refresh_from_db()
    assert pending.status == "submitted" and not pending.policy_allowed
    assert not selectors.active_transfer_covers(
        source_region=world.estate.eu_central,
        destination_country="IN",
        categories=["user.contact.email"],
    )
    # The impact page lists what was suspended.
    client.force_login(world.estate.dpo_eu)
    page = client.get(f"/transfers/mechanisms/{m.pk}/").content.decode()
    assert f'data-request="{kept.pk}"' in page and f'data-request="{other.pk}"' in page


def test_ending_a_mechanism_moves_dependents_to_another_basis_when_one_exists(new_request, world):
    us_scc = services.mechanism_save(
        mechanism=Mechanism(
            kind=p.KIND_SCC,
            key="scc-acme-cloudy",
            name="SCCs Acme / Cloudy",
            valid_from=date(2024, 1, 1),
            exporter=world.acme,
            importer=world.cloudy,
            module=2,
            tia_on=timezone.localdate() - timedelta(days=10),
            tia_outcome=p.TIA_NO_CONCERNS,
        ),
        by=None,
    )
    tr = new_request(
        importer=world.cloudy, destination_region=world.estate.us_east, destination_country=None
    )
    assert tr.policy_basis == "adequacy"
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    dpf = Mechanism.objects.get(key="eu-adequacy-US")
    _, outcome = services.mechanism_end(
        mechanism=dpf, by=world.estate.dpo_eu, status=p.SUSPENDED, reason="Schrems III"
    )
    assert [t.pk for t in outcome["rebased"]] == [tr.pk]
    tr.refresh_from_db()
    assert tr.status == "approved" and tr.policy_mechanism == us_scc and tr.policy_basis == "scc"


def test_only_dpos_end_mechanisms(world):
    with pytest.raises(NotAllowed):
        services.mechanism_end(
            mechanism=world.scc, by=world.estate.requester, status=p.REVOKED, reason="x"
        )
    world.scc.refresh_from_db()
    assert world.scc.status == "in_force"


def test_daily_check_expires_mechanisms_tia_and_requests_and_warns_once(new_request, world):
    today = timezone.localdate()
    tr = new_request()
    services.transfer_request_approve(
        request=tr, by=world.estate.dpo_eu, expires_on=today + timedelta(days=400)
    )
    # 1. TIA lapses: 366 days after the assessment the SCC no longer carries the transfer.
    summary = services.check_expiries(on=world.scc.tia_on + timedelta(days=366))
    assert summary["tia_lapsed"] == ["scc-acme-bangalore"]
    tr.refresh_from_db()
    assert tr.status == "suspended" and "TIA_EXPIRED" in [f["code"] for f in tr.policy_findings]

    # 2. A mechanism reaching its end date expires and its dependents are suspended.
    fresh = new_request(purpose="after TIA renewal")
    world.scc.tia_on = today
    world.scc.ends_on = today + timedelta(days=10)
    world.scc.save()
    services.transfer_request_approve(request=fresh, by=world.estate.dpo_eu)
    summary = services.check_expiries(on=today)
    assert "scc-acme-bangalore" in summary["warned"]
    assert services.check_expiries(on=today)["warned"] == []  # warned once
    summary = services.check_expiries(on=today + timedelta(days=10))
    assert summary["expired_mechanisms"] == ["scc-acme-bangalore"]
    fresh.refresh_from_db()
    assert fresh.status == "suspended"


def test_approval_expiry_ends_the_request(new_request, world):
    today = timezone.localdate()
    tr = new_request()
    services.transfer_request_approve(
        request=tr, by=world.estate.dpo_eu, expires_on=today + timedelta(days=5)
    )
    services.check_expiries(on=today + timedelta(days=5))
    tr.refresh_from_db()
    assert tr.status == "expired"


# --- the transfer log ------------------------------------------------------------------------


def test_record_under_an_approved_request_activates_it(new_request, world):
    tr = new_request(data_categories=[world.contact])
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    record = services.transfer_record_create(
        by=None,
        source_region=world.estate.eu_central,
        destination_country=world.india,
        categories=["user.contact.email"],  # covered by the parent key user.contact
        volume=120,
        executed_at=timezone.now(),
        idempotency_key="run-1",
    )
    assert not record.violation and record.request == tr and record.legal_basis == "scc"
    tr.refresh_from_db()
    assert tr.status == "active"
    again = services.transfer_record_create(
        by=None,
        source_region=world.estate.eu_central,
        destination_country=world.india,
        categories=["user.contact.email"],
        volume=120,
        executed_at=timezone.now(),
        idempotency_key="run-1",
    )
    assert again.pk == record.pk and TransferRecord.objects.count() == 1


def test_uncovered_record_is_stored_and_flagged(new_request, world):
    tr = new_request()
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    record = services.transfer_record_create(
        by=None,
        source_region=world.estate.eu_central,
        destination_country=world.india,
        categories=["user.health_and_medical"],  # not in the approved request
        volume=3,
        executed_at=timezone.now(),
    )
    assert record.violation and record.request is None
    assert AuditEvent.objects.filter(action="transfer.violation").count() == 1
    summary = selectors.dashboard_summary(world.estate.dpo_eu)
    assert summary["violation_count"] == 1


def test_records_are_append_only(world):
    record = services.transfer_record_create(
        by=None,
        source_region=world.estate.eu_central,
        destination_country=world.india,
        categories=["user.name"],
        volume=1,
        executed_at=timezone.now(),
    )
    record.volume = 2
    with pytest.raises(TransferRecordIsImmutable):
        record.save()
    with pytest.raises(TransferRecordIsImmutable):
        record.delete()
    with pytest.raises(TransferRecordIsImmutable):
        TransferRecord.objects.filter(pk=record.pk).update(volume=5)
    with pytest.raises(TransferRecordIsImmutable):
        TransferRecord.objects.all().delete()


# --- the selector other apps use ---------------------------------------------------------------


def test_active_transfer_covers_by_jurisdiction_and_parent_category(new_request, world):
    tr = new_request(
        importer=world.cloudy,
        destination_region=world.estate.us_east,
        destination_country=None,
        data_categories=[world.contact, world.name],
    )
    kwargs = dict(source_jurisdiction="EEA", destination_region=world.estate.us_east)
    assert not selectors.active_transfer_covers(categories=["user.contact.email"], **kwargs)
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    assert selectors.active_transfer_covers(
        categories=["user.contact.email", "user.name"], **kwargs
    )
    assert not selectors.active_transfer_covers(categories=["user.health_and_medical"], **kwargs)
    assert not selectors.active_transfer_covers(
        categories=["user.name"], source_jurisdiction="GB", destination_region=world.estate.us_east
    )
    assert not selectors.active_transfer_covers(
        categories=["user.name"],
        source_jurisdiction="EEA",
        destination_region=world.estate.ap_northeast,
    )


def test_an_end_date_ahead_keeps_dependents_until_that_day(new_request, world):
    today = timezone.localdate()
    tr = new_request()
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    _, outcome = services.mechanism_end(
        mechanism=world.scc,
        by=world.estate.dpo_eu,
        status=p.REVOKED,
        reason="Terminated with two weeks' notice.",
        ends_on=today + timedelta(days=14),
    )
    tr.refresh_from_db()
    assert outcome["suspended"] == [] and tr.status == "approved"
    services.check_expiries(on=today + timedelta(days=13))
    tr.refresh_from_db()
    assert tr.status == "approved"
    services.check_expiries(on=today + timedelta(days=14))
    tr.refresh_from_db()
    assert tr.status == "suspended" and tr.suspended_because == world.scc


def test_a_suspended_transfer_is_reinstated_once_a_new_basis_exists(new_request, world):
    tr = new_request()
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    services.mechanism_end(
        mechanism=world.scc, by=world.estate.dpo_eu, status=p.REVOKED, reason="Re-papering"
    )
    with pytest.raises(DomainError, match="still blocks"):
        services.transfer_request_reinstate(request=tr, by=world.estate.dpo_eu)
    new_scc = services.mechanism_save(
        mechanism=Mechanism(
            kind=p.KIND_SCC,
            key="scc-acme-bangalore-2",
            name="SCCs Acme / Bangalore (2026)",
            valid_from=timezone.localdate() - timedelta(days=1),
            exporter=world.acme,
            importer=world.bangalore,
            module=2,
            tia_on=timezone.localdate(),
            tia_outcome=p.TIA_NO_CONCERNS,
        ),
        by=None,
    )
    with pytest.raises(NotAllowed):
        services.transfer_request_reinstate(request=tr, by=world.estate.dpo_us)
    services.transfer_request_reinstate(request=tr, by=world.estate.dpo_eu)
    tr.refresh_from_db()
    assert tr.status == "approved" and tr.policy_mechanism == new_scc
    assert tr.suspended_because is None
    assert actions_for(tr)[-1] == "transfer.reinstated"
