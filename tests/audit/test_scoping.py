"""The audit trail is scoped like everything else (issue 13.5)."""

import pytest

from controlplane.audit.actors import Actor
from controlplane.audit.selectors import verify_chain
from controlplane.audit.services import record_event
from regions.models import DataStore

pytestmark = pytest.mark.django_db


@pytest.fixture
def eu_store(estate):
    return DataStore.objects.filter(region=estate.eu_central).first()


def _rows(client, query):
    return client.get(f"/audit/?{query}").content.decode()


def test_events_carry_the_region_of_their_object_and_it_is_hashed(estate, eu_store, tamper):
    event = record_event(actor=Actor.system("t"), action="datastore.checked", obj=eu_store)
    assert event.region == "eu-central"
    assert record_event(actor=Actor.system("t"), action="x.y", obj=estate.us_east).region == (
        "us-east"
    )
    assert record_event(actor=Actor.system("t"), action="x.z").region == ""
    assert verify_chain().intact
    with tamper() as cursor:
        cursor.execute("UPDATE audit_auditevent SET region = 'uk-south' WHERE id = %s", [event.pk])
    assert not verify_chain().intact


def test_a_uk_dpo_cannot_read_an_eu_central_requests_events(estate, client):
    """The reported case: /audit/?object=TR-6 showed an eu-central request to the UK DPO."""
    from controlplane.transfers import policy as p
    from controlplane.transfers import services
    from controlplane.transfers.models import Party
    from regions.models import Country, DataCategory

    services.reference_mechanisms_sync()
    exporter = Party.objects.create(
        name="Acme GmbH",
        country=Country.objects.get(code="DE"),
        role=p.CONTROLLER,
        hints=["commercial_organisation"],
    )
    importer = Party.objects.create(
        name="Acme US",
        country=Country.objects.get(code="US"),
        role=p.CONTROLLER,
        certifications=[p.CERT_EU_US_DPF],
        hints=["commercial_organisation"],
    )
    tr = services.transfer_request_create(
        by=estate.requester,
        source_region=estate.eu_central,
        destination_country=Country.objects.get(code="US"),
        exporter=exporter,
        importer=importer,
        data_categories=list(DataCategory.objects.filter(key="user.name")),
        purpose="Secret project Bluebird",
        data_subjects="customers",
        frequency=p.RECURRING,
        submit=True,
    )
    client.force_login(estate.dpo_uk)
    page = _rows(client, f"object={tr}")
    assert "No events match." in page and "transfer.created" not in page
    client.force_login(estate.dpo_eu)
    page = _rows(client, f"object={tr}")
    assert "transfer.created" in page and "transfer.submitted" in page
    client.force_login(estate.auditor)
    assert "transfer.created" in _rows(client, f"object={tr}")


def test_region_less_events_per_role(estate, client):
    """DPOs read the shared register's region-less events (mechanisms, parties, reference
    data) but not those about people and roles; auditors and superusers read everything."""
    from datetime import date

    from controlplane.transfers import policy as p
    from controlplane.transfers.models import Mechanism
    from controlplane.transfers.services import mechanism_save
    from regions.models import Jurisdiction

    mechanism_save(  # a region-less event of the shared register
        mechanism=Mechanism(
            kind=p.KIND_BCR,
            key="bcr-acme",
            name="Acme BCRs",
            valid_from=date(2025, 1, 1),
            from_jurisdiction=Jurisdiction.objects.get(code="EEA"),
            group="Acme",
            bcr_type=p.CONTROLLER,
        ),
        by=estate.dpo_eu,
    )
    client.force_login(estate.dpo_uk)
    assert "mechanism.created" in _rows(client, "action=mechanism.")
    assert "No events match." in _rows(client, "action=user.role_granted")
    # Rights granted on another region are that region's events.
    assert "No events match." in _rows(client, "action=permission.granted&object=us-east")
    assert "uk-south" in _rows(client, "action=permission.granted&object=uk-south")
    for who in (estate.auditor, estate.admin):
        client.force_login(who)
        assert "user.role_granted" in _rows(client, "action=user.role_granted")
        assert "us-east" in _rows(client, "action=permission.granted&object=us-east")
