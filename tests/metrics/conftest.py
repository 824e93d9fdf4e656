"""Fixtures: the demo estate with its model registry, an enrolled agent, and a batch builder."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from controlplane.distribution import services as distribution
from controlplane.metrics import services


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


@pytest.fixture
def registry(estate, catalogue, settings):
    """The demo estate plus the demo model registry (approved versions in each region)."""
    settings.BUNDLE_PUSH_ENABLED = False
    from controlplane.modelregistry import demo

    demo.seed()
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
