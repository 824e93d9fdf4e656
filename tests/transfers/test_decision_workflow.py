"""The decision workflow transfers and deployments share (controlplane.decisions):

conditions as checkboxes, recorded with the decision, and refused when not all confirmed
(issue 17); the 409 names the decision that came first, and a committed decision is never
answered with an error because reading it back failed (issue 13, point 6).
"""

import pytest

from controlplane.audit.models import AuditEvent
from controlplane.errors import ConflictError, DomainError
from controlplane.transfers import services
from controlplane.transfers.models import Party, TransferRequest
from regions.models import Country

pytestmark = pytest.mark.django_db


@pytest.fixture
def sakura(world):
    """A Japanese importer whose APPI status nobody stated (Decision (EU) 2019/419)."""
    return Party.objects.create(
        name="Sakura KK", country=Country.objects.get(code="JP"), role="processor"
    )


@pytest.fixture
def conditional(new_request, sakura):
    """Allowed by the EU-Japan decision only if the importer is an APPI business operator."""
    tr = new_request(importer=sakura, destination_country=sakura.country)
    assert tr.policy_allowed
    assert [c.code for c in tr.conditions_to_confirm] == ["ADEQUACY_SCOPE_UNCONFIRMED"]
    return tr


def approve_api(client, tr, **body):
    return client.post(
        f"/api/v1/transfers/requests/{tr.pk}/approve/", body, content_type="application/json"
    )


def test_an_approval_without_every_condition_confirmed_is_refused(conditional, world):
    with pytest.raises(DomainError, match="confirm every condition") as refused:
        services.transfer_request_approve(request=conditional, by=world.estate.dpo_eu)
    assert refused.value.code == "confirmation_required"
    assert "ADEQUACY_SCOPE_UNCONFIRMED" in str(refused.value)
    conditional.refresh_from_db()
    assert conditional.status == TransferRequest.Status.SUBMITTED


def test_confirmed_conditions_are_recorded_with_the_decision(conditional, world):
    tr = services.transfer_request_approve(
        request=conditional, by=world.estate.dpo_eu, confirmed=["ADEQUACY_SCOPE_UNCONFIRMED"]
    )
    tr.refresh_from_db()
    assert tr.status == TransferRequest.Status.APPROVED
    assert tr.confirmed_conditions == ["ADEQUACY_SCOPE_UNCONFIRMED"]
    event = AuditEvent.objects.filter(action="transfer.approved").latest("sequence")
    assert event.data["confirmed_conditions"] == ["ADEQUACY_SCOPE_UNCONFIRMED"]


def test_api_unknown_condition_is_a_400_naming_the_field(conditional, world, client):
    client.force_login(world.estate.dpo_eu)
    answer = approve_api(client, conditional, confirmed=["I_PROMISE"])
    assert answer.status_code == 400
    assert "I_PROMISE" in answer.json()["confirmed"][0]
    missing = approve_api(client, conditional)
    assert missing.status_code == 400 and missing.json()["code"] == "confirmation_required"
    conditional.refresh_from_db()
    assert conditional.status == TransferRequest.Status.SUBMITTED
    ok = approve_api(client, conditional, confirmed=["ADEQUACY_SCOPE_UNCONFIRMED"])
    assert ok.status_code == 200 and ok.json()["confirmed_conditions"] == [
        "ADEQUACY_SCOPE_UNCONFIRMED"
    ]


def test_the_approval_form_shows_conditions_as_checkboxes(conditional, world, client):
    client.force_login(world.estate.dpo_eu)
    page = client.get(conditional.get_absolute_url()).content.decode()
    assert 'type="checkbox" name="confirmed" value="ADEQUACY_SCOPE_UNCONFIRMED"' in page
    assert "APPI" in page  # the checkbox says what is confirmed, in words
    url = f"/transfers/{conditional.pk}/approve/"
    refused = client.post(url, {}, follow=True).content.decode()
    assert "confirm every condition" in refused
    conditional.refresh_from_db()
    assert conditional.status == TransferRequest.Status.SUBMITTED
    client.post(url, {"confirmed": "ADEQUACY_SCOPE_UNCONFIRMED"})
    conditional.refresh_from_db()
    assert conditional.status == TransferRequest.Status.APPROVED
    shown = client.get(conditional.get_absolute_url()).content.decode()
    assert 'data-testid="confirmed-conditions"' in shown


def test_the_409_names_the_decision_that_came_first_not_the_latest_state(new_request, world):
    """Issue 13 point 6: approved by dpo-eu, then revoked; a late decision hears who
    *approved* it (and that it is revoked now), not 'already revoked by dpo-eu'."""
    tr = new_request()
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    services.transfer_request_revoke(request=tr, by=world.estate.dpo_eu, reason="Contract ended")
    with pytest.raises(ConflictError) as late:
        services.transfer_request_reject(request=tr, by=world.estate.dpo_eu, reason="late")
    message = str(late.value)
    assert "already approved by dpo-eu" in message
    assert "it is revoked now" in message


def test_a_committed_decision_is_never_answered_with_an_error(
    new_request, world, client, make_user
):
    """Issue 13 point 6: a DPO who may approve in eu-central but not view it (rights granted
    separately in the admin) approves through the API. The decision commits; reading it back
    through the view scope finds nothing. The answer is still a 200 naming the decision."""
    tr = new_request()
    approver = make_user("dpo", approve_transfers=[world.estate.eu_central])
    client.force_login(approver)
    answer = approve_api(client, tr)
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "approved" and answer.json()["id"] == tr.pk
    tr.refresh_from_db()
    assert tr.status == TransferRequest.Status.APPROVED


def test_a_basis_that_needs_confirming_suspends_until_a_dpo_reinstates_and_confirms(
    new_request, world, sakura
):
    """Sakura's transfer runs under SCCs. When they end, the EU-Japan decision could carry it,
    but only if Sakura is an APPI business operator, which nobody confirmed: the transfer is
    suspended (not silently moved), and reinstating it asks for the confirmation."""
    from datetime import date, timedelta

    from django.utils import timezone

    from controlplane.transfers import policy as p
    from controlplane.transfers.models import Mechanism

    scc = services.mechanism_save(
        mechanism=Mechanism(
            kind=p.KIND_SCC,
            key="scc-acme-sakura",
            name="SCCs Acme / Sakura",
            valid_from=date(2024, 1, 1),
            exporter=world.acme,
            importer=sakura,
            module=2,
            tia_on=timezone.localdate() - timedelta(days=10),
            tia_outcome=p.TIA_NO_CONCERNS,
        ),
        by=world.estate.dpo_eu,
    )
    tr = new_request(importer=sakura, destination_country=sakura.country)
    assert tr.policy_basis == "scc" and tr.conditions_to_confirm == []
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    services.mechanism_end(
        mechanism=scc, by=world.estate.dpo_eu, status=p.REVOKED, reason="Contract terminated"
    )
    tr.refresh_from_db()
    assert tr.status == TransferRequest.Status.SUSPENDED
    assert "ADEQUACY_SCOPE_UNCONFIRMED" in tr.end_reason
    with pytest.raises(DomainError, match="confirm every condition"):
        services.transfer_request_reinstate(request=tr, by=world.estate.dpo_eu)
    services.transfer_request_reinstate(
        request=tr, by=world.estate.dpo_eu, confirmed=["ADEQUACY_SCOPE_UNCONFIRMED"]
    )
    tr.refresh_from_db()
    assert tr.status == TransferRequest.Status.APPROVED and tr.policy_basis == "adequacy"
    assert tr.confirmed_conditions == ["ADEQUACY_SCOPE_UNCONFIRMED"]
