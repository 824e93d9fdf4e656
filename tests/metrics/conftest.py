"""Fixtures: the demo estate with its model registry, an enrolled agent, and a batch builder."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings

from controlplane.distribution import services as distribution
from controlplane.metrics import services
from tests.conftest import seeded_once_per_module


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    distribution._memo.clear()
    yield
    cache.clear()
    distribution._memo.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catalogue(db):
    services.seed_catalogue()  # the migration seeds it; transactional tests flush it


def _seed_registry():
    from controlplane.modelregistry import demo

    with override_settings(BUNDLE_PUSH_ENABLED=False):
        demo.seed()


_module_registry = seeded_once_per_module(_seed_registry)


@pytest.fixture
def registry(_module_estate, _module_registry, estate, catalogue, settings):
    """The demo estate plus the demo model registry (approved versions in each region),
    seeded once per module for plain tests."""
    settings.BUNDLE_PUSH_ENABLED = False
    if not _module_registry:
        _seed_registry()
    return estate


@pytest.fixture
def agent_token(registry):
    """An eu-central agent's bearer token."""
    _, token = distribution.agent_enroll(region=registry.eu_central, name="eu-metrics")
    return token


def period_start(minutes_ago: int = 10, period: int = 300) -> datetime:
    now = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % period, UTC)


def batch(items, *, key="mb-abcdefghijklmnop", start=None, period=300, **extra) -> dict:
    start = start or period_start(period=period)
    return {
        "idempotency_key": key,
        "period_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "period_seconds": period,
        "items": items,
        **extra,
    }


@pytest.fixture
def post_batch(client, agent_token):
    def post(body, *, token=agent_token):
        raw = body if isinstance(body, bytes | str) else json.dumps(body)
        return client.post(
            "/api/v1/agent/metrics",
            data=raw,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    return post


@pytest.fixture
def eu_version(registry):
    from controlplane.metrics.selectors import model_versions_in

    versions = model_versions_in(registry.eu_central)
    assert versions, "the demo registry approves at least one version in eu-central"
    return versions[0]
