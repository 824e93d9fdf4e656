"""Transfers in the bundle, and the transfer log reported by agents (the register's service)."""

import pytest

from controlplane.distribution import services
from controlplane.distribution.models import ConfigBundle
from controlplane.transfers import policy as tp
from controlplane.transfers import services as transfer_services
from controlplane.transfers.models import Party, TransferRecord
from controlplane.transfers.services import reference_mechanisms_sync
from regions.models import Country, DataCategory

pytestmark = pytest.mark.django_db

URL = "/api/v1/agent/transfers"


@pytest.fixture
def approved(estate, bundle_keys, django_capture_on_commit_callbacks):
    """eu-central -> us-east under the EU-US DPF adequacy decision, approved by the EU DPO."""
    reference_mechanisms_sync()
    de, us = Country.objects.get(code="DE"), Country.objects.get(code="US")
    exporter = Party.objects.create(
        name="Acme GmbH", country=de, role=tp.CONTROLLER, hints=["commercial_organisation"]
    )
    importer = Party.objects.create(
        name="Acme US Inc",
        country=us,
        role=tp.CONTROLLER,
        certifications=[tp.CERT_EU_US_DPF],
        hints=["commercial_organisation"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        tr = transfer_services.transfer_request_create(
            by=estate.requester,
            source_region=estate.eu_central,
            destination_region=estate.us_east,
            exporter=exporter,
            importer=importer,
            data_categories=list(DataCategory.objects.filter(key="user.contact.email")),
            purpose="Support tickets",
            data_subjects="EU customers",
            frequency=tp.RECURRING,
            submit=True,
        )
        assert tr.policy_allowed, tr.policy_findings
        return transfer_services.transfer_request_approve(request=tr, by=estate.dpo_eu)


def test_an_approved_transfer_is_in_both_regions_bundles(approved, estate):
    eu = ConfigBundle.objects.filter(region=estate.eu_central).latest().payload["content"]
    assert [
        (t["id"], t["direction"], t["to_region"], t["categories"]) for t in eu["transfers"]
    ] == [(f"TR-{approved.pk}", "outgoing", "us-east", ["user.contact.email"])]
    services.publish_region(region=estate.us_east)
    us = ConfigBundle.objects.filter(region=estate.us_east).latest().payload["content"]
    assert [(t["direction"], t["from_jurisdiction"]) for t in us["transfers"]] == [
        ("incoming", "EEA")
    ]


def _post(client, token, records):
    return client.post(
        URL,
        {"records": records},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_agent_reports_executed_transfers_into_the_register(client, approved, estate):
    agent, token = services.agent_enroll(region=estate.eu_central, name="eu-1")
    record = {
        "destination_country": "US",
        "destination_region": "us-east",
        "categories": ["user.contact.email"],
        "volume": 120,
        "executed_at": "2026-03-02T10:00:00Z",
        "idempotency_key": "eu-1:batch-1",
    }
    outside = {
        **record,
        "categories": ["user.health_and_medical"],  # a real key the request does not cover
        "idempotency_key": "eu-1:batch-2",
    }
    response = _post(client, token, [record, outside])
    assert response.status_code == 201, response.content
    covered, violation = response.json()["records"]
    assert covered["violation"] is False and violation["violation"] is True
    stored = TransferRecord.objects.get(pk=covered["id"])
    assert stored.source_region == estate.eu_central and stored.request_id == approved.pk
    assert stored.reported_by == str(agent)
    # A retry stores nothing new.
    assert _post(client, token, [record]).json()["records"][0]["id"] == covered["id"]
    assert TransferRecord.objects.count() == 2


def test_transfer_reports_are_strict(client, estate, bundle_keys):
    agent, token = services.agent_enroll(region=estate.eu_central, name="eu-1")
    base = {
        "destination_country": "US",
        "categories": ["user.contact.email"],
        "volume": 1,
        "executed_at": "2026-03-02T10:00:00Z",
    }
    assert _post(client, token, [{**base, "email": "a@b.example"}]).status_code == 400
    assert _post(client, token, [{**base, "destination_country": "ZZ"}]).status_code == 400
    assert _post(client, token, []).status_code == 400
    assert client.post(URL, {}, content_type="application/json").status_code in (401, 403)
    # Personal data smuggled into a free-text field is refused, naming the field.
    smuggled = _post(client, token, [{**base, "importer_name": "Jane Roe, jane@roe.example"}])
    assert smuggled.status_code == 400
    assert "personal data" in str(smuggled.json()) and "importer_name" in str(smuggled.json())
    assert TransferRecord.objects.count() == 0


# --- One region's agent never reaches another region's records (issue 20) -----------------


def _record(**overrides):
    return {
        "destination_country": "US",
        "categories": ["user.contact.email"],
        "volume": 5,
        "executed_at": "2026-03-02T10:00:00Z",
        **overrides,
    }


def test_an_idempotency_key_finds_only_the_agents_own_regions_record(client, approved, estate):
    """The us-east agent that guesses eu-central's key gets a record of its own, not eu-central's
    (before: eu-central's record id, its violation flag and reason came back)."""
    _, eu_token = services.agent_enroll(region=estate.eu_central, name="eu-1")
    _, us_token = services.agent_enroll(region=estate.us_east, name="us-1")
    eu = _post(client, eu_token, [_record(idempotency_key="batch-1")]).json()["records"][0]
    us = _post(client, us_token, [_record(idempotency_key="batch-1", destination_country="DE")])
    assert us.status_code == 201, us.content
    answer = us.json()["records"][0]
    assert answer["id"] != eu["id"]
    mine = TransferRecord.objects.get(pk=answer["id"])
    assert mine.source_region == estate.us_east and mine.destination_country.code == "DE"
    assert TransferRecord.objects.get(pk=eu["id"]).source_region == estate.eu_central
    # Each region's retry still finds its own record, once.
    assert _post(client, eu_token, [_record(idempotency_key="batch-1")]).json()["records"][0][
        "id"
    ] == eu["id"]
    assert TransferRecord.objects.count() == 2


def test_a_record_never_links_another_regions_request(approved, estate):
    """The register refuses a record of us-east that names eu-central's request."""
    from controlplane.errors import DomainError

    with pytest.raises(DomainError, match="not a request of us-east"):
        transfer_services.transfer_record_create(
            by=None,
            source_region=estate.us_east,
            destination_country=Country.objects.get(code="US"),
            categories=["user.contact.email"],
            volume=1,
            executed_at=approved.decided_at,
            request=approved,
        )
    assert not TransferRecord.objects.exists()


def test_a_person_cannot_link_a_request_they_cannot_see(client, approved, estate):
    """dpo-us reports a us-east record naming eu-central's request: it does not exist for them."""
    client.force_login(estate.dpo_us)
    response = client.post(
        "/api/v1/transfers/records/",
        {
            "source_region": "us-east",
            "destination_country": "DE",
            "categories": ["user.contact.email"],
            "volume": 1,
            "executed_at": "2026-03-02T10:00:00Z",
            "request": approved.pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"request": [f'Invalid pk "{approved.pk}" - object does not exist.']}
    assert not TransferRecord.objects.exists()


def test_unknown_data_categories_from_agents_are_refused(client, estate, bundle_keys):
    _, token = services.agent_enroll(region=estate.eu_central, name="eu-1")
    response = _post(client, token, [_record(categories=["user.contact.email", "no.such.thing"])])
    assert response.status_code == 400
    assert "Unknown data categories: no.such.thing" in str(response.json())
    assert not TransferRecord.objects.exists()
