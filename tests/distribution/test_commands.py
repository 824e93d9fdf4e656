"""Management commands: bundle_keys (init, rotate, revoke) and publish_bundles."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from controlplane.audit.models import AuditEvent
from controlplane.distribution import keys, repository
from controlplane.distribution.models import ConfigBundle

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_bundle_keys_init_is_idempotent_and_names_the_trusted_root(settings, tmp_path):
    settings.TUF_KEY_DIR = str(tmp_path / "k")
    settings.TUF_ROOT_KEY_DIR = str(tmp_path / "offline")
    settings.TUF_ROOT_THRESHOLD = 2
    keys._cache.clear()
    first = run("bundle_keys", "init", "--root-keys", "3")
    assert json.loads(first.splitlines()[0]) == {"created": True, "root_version": 1, "threshold": 2}
    assert len(list((tmp_path / "offline").glob("*.key"))) == 3
    root = repository.load("root")
    assert root.signed.roles["root"].threshold == 2 and len(root.signed.roles["root"].keyids) == 3
    root.verify_delegate("root", root)  # two of three root keys signed it
    again = run("bundle_keys", "init")
    assert json.loads(again.splitlines()[0])["created"] is False
    assert str(tmp_path / "k" / "root.json") in again
    assert AuditEvent.objects.filter(action="tuf.initialised").count() == 1


def test_threshold_above_the_number_of_root_keys_is_refused(settings, tmp_path):
    settings.TUF_KEY_DIR = str(tmp_path / "k")
    settings.TUF_ROOT_KEY_DIR = str(tmp_path / "offline")
    with pytest.raises(CommandError, match="threshold of 2"):
        run("bundle_keys", "init", "--threshold", "2")


def test_publish_bundles_and_rotation_are_audited(estate, bundle_keys):
    assert "v1 published" in run("publish_bundles", "eu-central")
    assert "unchanged" in run("publish_bundles", "eu-central")
    out = json.loads(run("bundle_keys", "rotate", "--role", "timestamp").splitlines()[0])
    assert out["root_version"] == 2 and out["revoked_keyids"]
    out = json.loads(
        run("bundle_keys", "revoke", "--role", "region", "--region", "eu-central").splitlines()[0]
    )
    assert out["role"] == "eu-central"
    # A region key rotation re-signs the same bundle: no new bundle version.
    assert ConfigBundle.objects.filter(region=estate.eu_central).latest().version == 1
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"tuf.key_rotated", "tuf.key_revoked"} <= actions


def test_root_signing_without_the_offline_root_keys_fails_clearly(
    estate, bundle_keys, settings, tmp_path
):
    settings.TUF_ROOT_KEY_DIR = str(tmp_path / "not-mounted")
    with pytest.raises(CommandError, match="offline root"):
        run("bundle_keys", "rotate", "--role", "snapshot")
    with pytest.raises(CommandError, match="--region"):
        run("bundle_keys", "rotate", "--role", "region", "--region", "nowhere")
