import pytest
from django.core.cache import cache

from controlplane.distribution import cache as shared_cache
from controlplane.distribution import services, signing


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
def bundle_keys(settings, tmp_path):
    """Root key, signing key and keyring v1 in a temporary directory; returns the root key."""
    keys = tmp_path / "keys"
    settings.BUNDLE_SIGNING_KEY_FILE = str(keys / "signing.key")
    settings.BUNDLE_KEYRING_FILE = str(keys / "keyring.json")
    settings.BUNDLE_ROOT_KEY_FILE = str(keys / "root.key")
    signing._cache.clear()
    result = signing.init_keys()
    yield result["root_public_key"]
    signing._cache.clear()


@pytest.fixture
def enrolled(estate, bundle_keys):
    """An eu-central agent (polling only) and its token, with the region's bundle published."""
    agent, token = services.agent_enroll(region=estate.eu_central, name="eu-1", poll_interval=30)
    services.publish_region(region=estate.eu_central)
    return agent, token
