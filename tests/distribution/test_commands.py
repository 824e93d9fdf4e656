"""Management commands: bundle_keys (init, show, rotate) and publish_bundles."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from agents import protocol
from controlplane.distribution import signing
from controlplane.distribution.models import ConfigBundle

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bundle_keys_init_is_idempotent_and_show_prints_the_root_key(settings, tmp_path):
    settings.BUNDLE_SIGNING_KEY_FILE = str(tmp_path / "k" / "signing.key")
    settings.BUNDLE_KEYRING_FILE = str(tmp_path / "k" / "keyring.json")
    settings.BUNDLE_ROOT_KEY_FILE = str(tmp_path / "k" / "root.key")
    signing._cache.clear()
    first = run("bundle_keys", "init")
    assert first.count("created") == 3
    again = run("bundle_keys", "init")
    assert "created" not in again
    root = run("bundle_keys", "show").splitlines()[0]
    assert protocol.load_public_key(root)


def test_rotate_republishes_every_region(estate, bundle_keys):
    assert "v1 published" in run("publish_bundles", "eu-central")
    assert "unchanged" in run("publish_bundles", "eu-central")
    out = run("bundle_keys", "rotate")
    assert json.loads(out.splitlines()[0])["keyring_version"] == 2
    assert ConfigBundle.objects.filter(region=estate.eu_central).latest().version == 2
    assert ConfigBundle.objects.filter(region=estate.us_east).count() == 1


def test_rotate_without_the_root_key_fails_clearly(estate, bundle_keys, settings):
    settings.BUNDLE_ROOT_KEY_FILE = settings.BUNDLE_ROOT_KEY_FILE + ".missing"
    with pytest.raises(CommandError, match="root key"):
        run("bundle_keys", "rotate")
