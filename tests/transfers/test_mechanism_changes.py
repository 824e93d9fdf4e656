"""Mechanism edits are decisions too (issue 13.3): one audited write path with a diff, followed
by re-evaluation, for the admin (many-to-many fields included) and the reference-data loader."""

import json

import pytest
from django.forms.models import model_to_dict

from controlplane.audit.models import AuditEvent
from controlplane.transfers import policy as p
from controlplane.transfers import services
from controlplane.transfers.models import Mechanism
from controlplane.transfers.reference_data import load_reference_mechanisms
from regions.models import Country, DataCategory, Jurisdiction

pytestmark = pytest.mark.django_db


@pytest.fixture
def relied_on(new_request, world):
    tr = new_request()
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    return tr


def admin_post_data(m: Mechanism) -> dict:
    """What the admin's change form posts back for ``m`` unchanged."""
    data = {}
    for name, value in model_to_dict(m).items():
        if name in ("id", "status", "status_reason", "expiry_warned_on"):
            continue
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list) and name in ("categories", "members"):
            data[name] = [obj.pk for obj in value]
        elif isinstance(value, list):
            data[name] = json.dumps(value)
        else:
            data[name] = "" if value is None else str(value)
    return data


def _changed_events(m):
    return list(
        AuditEvent.objects.filter(action="mechanism.changed", object_id=str(m.pk)).order_by(
            "sequence"
        )
    )


def test_a_tia_turned_to_do_not_transfer_in_the_admin_suspends_its_transfers(
    relied_on, world, client
):
    client.force_login(world.estate.admin)
    data = admin_post_data(world.scc)
    data["tia_outcome"] = p.TIA_DO_NOT_TRANSFER
    response = client.post(f"/admin/transfers/mechanism/{world.scc.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    relied_on.refresh_from_db()
    assert relied_on.status == "suspended" and relied_on.suspended_because == world.scc
    [event] = _changed_events(world.scc)
    assert event.actor_label == "admin"
    assert event.data["changes"] == {
        "tia_outcome": {"from": p.TIA_NO_CONCERNS, "to": p.TIA_DO_NOT_TRANSFER}
    }
    suspended = AuditEvent.objects.get(action="transfer.suspended", object_id=str(relied_on.pk))
    assert suspended.sequence > event.sequence


def test_narrowing_the_categories_in_the_admin_is_audited_and_re_evaluated(
    relied_on, world, client
):
    client.force_login(world.estate.admin)
    data = admin_post_data(world.scc)
    data["categories"] = [world.name.pk]  # the transfer carries e-mail addresses
    response = client.post(f"/admin/transfers/mechanism/{world.scc.pk}/change/", data)
    assert response.status_code == 302
    world.scc.refresh_from_db()
    assert [c.key for c in world.scc.categories.all()] == ["user.name"]
    [event] = _changed_events(world.scc)
    assert event.data["changes"] == {"categories": {"from": [], "to": ["user.name"]}}
    relied_on.refresh_from_db()
    assert relied_on.status == "suspended"


def test_an_unchanged_save_in_the_admin_writes_no_event(relied_on, world, client):
    client.force_login(world.estate.admin)
    response = client.post(
        f"/admin/transfers/mechanism/{world.scc.pk}/change/", admin_post_data(world.scc)
    )
    assert response.status_code == 302
    assert _changed_events(world.scc) == []
    relied_on.refresh_from_db()
    assert relied_on.status == "approved"


def test_the_reference_loader_writes_through_the_audited_service(new_request, world):
    """A drifted reference row is put right with an audit event and its transfers re-checked."""
    swiss = Mechanism.objects.get(key="eu-adequacy-CH")
    right = swiss.to_country
    # The row as a bad release left it: the Swiss adequacy decision pointing at India.
    Mechanism.objects.filter(pk=swiss.pk).update(to_country=world.india)
    tr = new_request()  # eu-central -> India: the drifted "adequacy" comes before the SCCs
    assert tr.policy_mechanism == swiss, tr.policy_findings
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)

    assert services.reference_mechanisms_sync() == 1
    [event] = _changed_events(swiss)
    assert event.data["changes"] == {"to_country": {"from": world.india.pk, "to": right.pk}}
    assert event.actor_kind == "system" and event.actor_label == "reference-data"
    tr.refresh_from_db()
    # Re-evaluated in the same transaction: it now rests on the SCCs it really has.
    assert tr.status == "approved" and tr.policy_mechanism == world.scc, tr.policy_findings
    moved = AuditEvent.objects.get(action="transfer.reevaluated", object_id=str(tr.pk))
    assert moved.sequence > event.sequence
    assert services.reference_mechanisms_sync() == 0  # idempotent


def test_the_loader_refuses_to_write_live_rows_behind_the_services_back(world):
    with pytest.raises(TypeError, match="mechanism_save"):
        load_reference_mechanisms(Mechanism, Jurisdiction, Country)


def test_creating_a_mechanism_records_its_values(world):
    m = services.mechanism_save(
        mechanism=Mechanism(
            kind=p.KIND_BCR,
            key="bcr-acme",
            name="Acme BCRs",
            valid_from=world.scc.valid_from,
            from_jurisdiction=Jurisdiction.objects.get(code="EEA"),
            group="Acme",
            bcr_type=p.CONTROLLER,
        ),
        by=world.estate.dpo_eu,
        members=[world.acme, world.cloudy],
        categories=list(DataCategory.objects.filter(key="user.contact.email")),
    )
    event = AuditEvent.objects.get(action="mechanism.created", object_id=str(m.pk))
    assert event.data["members"] == sorted([world.acme.pk, world.cloudy.pk])
    assert event.data["categories"] == ["user.contact.email"]
    assert event.data["group"] == "Acme"
