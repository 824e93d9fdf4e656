"""Fixtures for the model registry: a version factory and an approved EEA -> us-east transfer."""

import hashlib
from itertools import count
from types import SimpleNamespace

import pytest

from controlplane.modelregistry import services
from controlplane.transfers import policy as tp
from controlplane.transfers import services as transfer_services
from controlplane.transfers.models import Party
from controlplane.transfers.services import reference_mechanisms_sync
from regions.models import Country, DataCategory, Jurisdiction

_digests = count(1)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def digest(seed=None) -> str:
    return "sha256:" + hashlib.sha256(str(seed or next(_digests)).encode()).hexdigest()


@pytest.fixture
def reg(estate):
    """The estate plus a version factory: ``reg.version("1.0", mode="regional", ...)``."""
    cats = {c.key: c for c in DataCategory.objects.filter(key__startswith="user.")}
    jur = {j.code: j for j in Jurisdiction.objects.filter(code__in=["EEA", "GB", "US", "JP"])}
    fraud = services.model_create(
        name="fraud", purpose="Scores payments", owner_team="Risk", by=estate.ml_engineer
    )

    def version(
        label,
        *,
        mode="regional",
        personal=True,
        jurisdictions=("EEA",),
        categories=("user.financial",),
        base=None,
        regions=(),
        artifacts=None,
        model=None,
    ):
        if artifacts is None:
            artifacts = {r: f"s3://models-{r.slug}/{label}" for r in estate_regions(estate)}
        return services.version_register(
            model=model or fraud,
            version=label,
            digest=digest(),
            framework="xgboost 2.1",
            metrics={"auc": 0.9},
            training_mode=mode,
            contains_personal_data=personal,
            training_jurisdictions=[jur[j] for j in jurisdictions] if personal else [],
            data_categories=[cats[c] for c in categories] if personal else [],
            base_version=base,
            participating_regions=list(regions),
            artifacts=artifacts,
            by=estate.ml_engineer,
        )

    return SimpleNamespace(estate=estate, model=fraud, version=version, cats=cats, jur=jur)


def estate_regions(estate):
    return [estate.eu_central, estate.eu_west, estate.uk_south, estate.us_east, estate.ap_northeast]


@pytest.fixture
def approved_transfer(estate):
    """approved_transfer(categories) -> an approved request eu-central -> us-east, made and
    decided through the transfer register's own services (EU-US DPF adequacy)."""
    reference_mechanisms_sync()
    exporter = Party.objects.create(
        name="Acme GmbH",
        country=Country.objects.get(code="DE"),
        role=tp.CONTROLLER,
        hints=["commercial_organisation"],
    )
    importer = Party.objects.create(
        name="Acme US Inc",
        country=Country.objects.get(code="US"),
        role=tp.CONTROLLER,
        certifications=[tp.CERT_EU_US_DPF],
        hints=["commercial_organisation"],
    )

    def make(categories):
        tr = transfer_services.transfer_request_create(
            by=estate.requester,
            source_region=estate.eu_central,
            destination_region=estate.us_east,
            exporter=exporter,
            importer=importer,
            data_categories=list(DataCategory.objects.filter(key__in=categories)),
            purpose="Serve fraud scores to US checkout",
            data_subjects="EU customers",
            frequency=tp.RECURRING,
            submit=True,
        )
        assert tr.policy_allowed, tr.policy_findings
        return transfer_services.transfer_request_approve(request=tr, by=estate.dpo_eu)

    return make
