"""Fixtures for routing: the demo estate with routing facts, reference adequacy decisions,
and a transfer factory (eu-central -> us-east to a DPF-certified processor)."""

from types import SimpleNamespace

import pytest

from controlplane.routing import demo as routing_demo
from controlplane.transfers import policy as p
from controlplane.transfers import services as transfer_services
from controlplane.transfers.models import Party
from regions.models import Country, DataCategory


@pytest.fixture
def routed(estate):
    """The demo estate; every scoring endpoint logs to its event lake and takes e-mail and
    name; reference adequacy decisions loaded."""
    transfer_services.reference_mechanisms_sync()
    routing_demo.seed()
    cats = {c.key: c for c in DataCategory.objects.filter(key__startswith="user.")}
    acme = Party.objects.create(
        name="Acme GmbH",
        country=Country.objects.get(code="DE"),
        role="controller",
        hints=[p.HINT_COMMERCIAL],
    )
    cloudy = Party.objects.create(
        name="Cloudy Inc",
        country=Country.objects.get(code="US"),
        role="processor",
        certifications=[p.CERT_EU_US_DPF],
        hints=[p.HINT_COMMERCIAL],
    )

    def approved_transfer(categories=("user.contact.email", "user.name"), **overrides):
        values = dict(
            source_region=estate.eu_central,
            destination_region=estate.us_east,
            destination_country=Country.objects.get(code="US"),
            exporter=acme,
            importer=cloudy,
            data_categories=[cats[c] for c in categories],
            data_subjects="customers",
            purpose="Score payments in us-east",
            frequency=p.RECURRING,
        )
        values.update(overrides)
        tr = transfer_services.transfer_request_create(by=estate.requester, submit=True, **values)
        assert tr.policy_allowed, tr.policy_findings
        return transfer_services.transfer_request_approve(request=tr, by=estate.dpo_eu)

    return SimpleNamespace(
        estate=estate, categories=cats, approved_transfer=approved_transfer, **vars(estate)
    )


from tests.distribution.conftest import bundle_keys  # noqa: E402, F401 - shared fixture
