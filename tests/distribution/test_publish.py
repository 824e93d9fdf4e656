"""Publishing: versions grow only on change, on commit, with deliveries in the outbox."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from agents import protocol
from controlplane.audit.models import AuditEvent
from controlplane.distribution import services, signing
from controlplane.distribution.models import ConfigBundle, Delivery
from regions.models import ResidencyRule
from regions.services import estate_object_save

pytestmark = pytest.mark.django_db


def test_first_publish_is_a_verifiable_version_1(estate, bundle_keys):
    bundle = services.publish_region(region=estate.eu_central, reason="test")
    assert bundle.version == 1
    verified = protocol.verify_bundle(
        bundle.envelope, root_public_key=protocol.load_public_key(bundle_keys), region="eu-central"
    )
    assert verified.digest == bundle.digest
    content = verified.content
    assert content["region"]["jurisdiction"] == "EEA"
    assert content["residency_rules"][0]["subject_country"] == "GB"
    assert {s["name"] for s in content["data_stores"]} == set(content["retention"])
    assert bundle.expires - bundle.issued == timedelta(days=7)
    event = AuditEvent.objects.get(action="bundle.published")
    assert event.data["version"] == 1 and event.data["digest"] == bundle.digest


def test_unchanged_state_makes_no_new_version(estate, bundle_keys):
    services.publish_region(region=estate.eu_central)
    assert services.publish_region(region=estate.eu_central) is None
    assert ConfigBundle.objects.filter(region=estate.eu_central).count() == 1


def test_an_estate_change_republishes_on_commit(
    estate, bundle_keys, django_capture_on_commit_callbacks
):
    services.publish_region(region=estate.eu_central)
    rule = ResidencyRule.objects.filter(region=estate.eu_central).order_by("position").last()
    rule.contract_tag = "analytics"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        estate_object_save(instance=rule, by=estate.admin)
        assert ConfigBundle.objects.filter(region=estate.eu_central).count() == 1
    assert callbacks, "publishing waits for the commit"
    latest = ConfigBundle.objects.filter(region=estate.eu_central).latest()
    assert latest.version == 2
    assert any(
        r["contract_tag"] == "analytics" for r in latest.payload["content"]["residency_rules"]
    )
    # Other regions are untouched.
    assert not ConfigBundle.objects.filter(region=estate.us_east).exists()


def test_deliveries_go_to_agents_with_a_callback_and_supersede_older_ones(estate, bundle_keys):
    pushed, _ = services.agent_enroll(
        region=estate.eu_central, name="push", callback_url="http://127.0.0.1:9/"
    )
    services.agent_enroll(region=estate.eu_central, name="poll-only")
    first = services.publish_region(region=estate.eu_central)
    assert list(Delivery.objects.values_list("agent__name", "state")) == [("push", "pending")]
    second = services.publish_region(region=estate.eu_central, force=True)
    states = dict(Delivery.objects.values_list("bundle__version", "state"))
    assert states == {first.version: "superseded", second.version: "pending"}


def test_key_rotation_republishes_and_revokes_the_old_key(estate, bundle_keys):
    first = services.publish_region(region=estate.eu_central)
    old_keyid = first.signatures[0]["keyid"]
    signing.rotate_signing_key()
    second = services.publish_region(region=estate.eu_central)
    assert second.version == 2 and second.signatures[0]["keyid"] != old_keyid
    assert second.keyring["payload"]["version"] == 2
    assert old_keyid not in {k["keyid"] for k in second.keyring["payload"]["keys"]}
    root = protocol.load_public_key(bundle_keys)
    applied = protocol.AppliedState(1, first.digest, 1)
    protocol.verify_bundle(
        second.envelope, root_public_key=root, region="eu-central", applied=applied
    )


def test_beat_re_signs_ahead_of_expiry(estate, bundle_keys):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert len(services.ensure_current()) == 5  # every region gets its first bundle
        first = ConfigBundle.objects.filter(region=estate.eu_central).latest()
        assert services.ensure_current() == []
        clock.shift(timedelta(days=4, hours=23))
        assert services.ensure_current() == []
        clock.shift(timedelta(hours=2))  # now within 48 hours of expiry
        assert len(services.ensure_current()) == 5
        latest = ConfigBundle.objects.filter(region=estate.eu_central).latest()
    assert latest.version == first.version + 1
    assert latest.content_digest == first.content_digest
    assert latest.reason == "re-signed ahead of expiry"
    assert latest.expires > first.expires


def test_missing_key_files_say_how_to_fix_it(estate, settings, tmp_path):
    settings.BUNDLE_SIGNING_KEY_FILE = str(tmp_path / "nope.key")
    settings.BUNDLE_KEYRING_FILE = str(tmp_path / "nope.json")
    signing._cache.clear()
    with pytest.raises(signing.KeyMaterialMissing, match="bundle_keys init"):
        services.publish_region(region=estate.eu_central)


def test_keys_are_files_with_private_permissions(bundle_keys, settings):
    import os
    import stat

    for name in ("BUNDLE_SIGNING_KEY_FILE", "BUNDLE_ROOT_KEY_FILE"):
        mode = stat.S_IMODE(os.stat(getattr(settings, name)).st_mode)
        assert mode == 0o600
    keyring = json.loads(open(settings.BUNDLE_KEYRING_FILE).read())
    protocol.verify_keyring(keyring, root_public_key=protocol.load_public_key(bundle_keys))
