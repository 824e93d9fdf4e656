import pytest
from django.core.cache import cache

from controlplane import shared_cache
from controlplane.distribution import services


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    services._memo.clear()
    shared_cache.reset()
    yield
    cache.clear()
    services._memo.clear()
    shared_cache.reset()


@pytest.fixture
def bundle_keys(tuf_repository):
    """The TUF repository initialised in a temporary key directory; the trusted root bytes."""
    return tuf_repository


@pytest.fixture
def enrolled(estate, bundle_keys):
    """An eu-central agent (polling only) and its token, with the region's bundle published."""
    agent, token = services.agent_enroll(region=estate.eu_central, name="eu-1", poll_interval=30)
    services.publish_region(region=estate.eu_central)
    return agent, token
