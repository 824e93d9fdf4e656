"""Fixtures for the transfer register: parties, contracts and a request factory."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from controlplane.audit.actors import Actor
from controlplane.transfers import policy as p
from controlplane.transfers import services
from controlplane.transfers.models import Mechanism, Party
from controlplane.transfers.services import reference_mechanisms_sync
from regions.models import Country, DataCategory

TEST_ACTOR = Actor.system("tests")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The demo estate creates seven users; PBKDF2 would spend most of each test hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def mechanisms(estate):
    """Reference adequacy decisions (a flushed transactional database lost them)."""
    reference_mechanisms_sync()


def _party(name, country, role, certs=(), hints=("commercial_organisation",)):
    return Party.objects.create(
        name=name,
        country=Country.objects.get(code=country),
        role=role,
        certifications=list(certs),
        hints=list(hints),
    )


@pytest.fixture
def world(estate, mechanisms):
    """The demo estate plus parties and an SCC between Acme and an Indian processor."""
    acme = _party("Acme GmbH", "DE", "controller")
    cloudy = _party("Cloudy Inc", "US", "processor", [p.CERT_EU_US_DPF])
    plain_us = _party("Plain Hosting LLC", "US", "processor")
    bangalore = _party("Bangalore Labelling Pvt Ltd", "IN", "processor")
    scc = services.mechanism_save(
        mechanism=Mechanism(
            kind=p.KIND_SCC,
            key="scc-acme-bangalore",
            name="SCCs Acme / Bangalore",
            valid_from=date(2024, 1, 1),
            exporter=acme,
            importer=bangalore,
            module=2,
            tia_on=timezone.localdate() - timedelta(days=30),
            tia_outcome=p.TIA_NO_CONCERNS,
        ),
        by=TEST_ACTOR,
    )
    cats = {c.key: c for c in DataCategory.objects.all()}
    return SimpleNamespace(
        estate=estate,
        acme=acme,
        cloudy=cloudy,
        plain_us=plain_us,
        bangalore=bangalore,
        scc=scc,
        email=cats["user.contact.email"],
        name=cats["user.name"],
        health=cats["user.health_and_medical"],
        contact=cats["user.contact"],
        india=Country.objects.get(code="IN"),
    )


@pytest.fixture
def new_request(world):
    """new_request(by=..., **overrides) -> a submitted request (eu-central -> IN under SCCs)."""

    def make(*, by=None, submit=True, **overrides):
        values = dict(
            source_region=world.estate.eu_central,
            destination_country=world.india,
            exporter=world.acme,
            importer=world.bangalore,
            data_categories=[world.email],
            data_subjects="customers",
            purpose="Label support tickets",
            frequency=p.RECURRING,
        )
        values.update(overrides)
        return services.transfer_request_create(
            by=by or world.estate.requester, submit=submit, **values
        )

    return make
