"""Publishing: versions grow only on change, on commit, with deliveries in the outbox."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from agents import protocol
from controlplane.audit.models import AuditEvent
from controlplane.distribution import keys, repository, services
from controlplane.distribution.models import ConfigBundle, Delivery
from regions.models import ResidencyRule
from regions.services import estate_object_save

pytestmark = pytest.mark.django_db


def test_first_publish_is_version_1_of_the_regions_tuf_role(estate, bundle_keys):
    bundle = services.publish_region(region=estate.eu_central, reason="test")
    assert bundle.version == 1 and bundle.role_version == 1
    role = repository.load("eu-central")
    targets = repository.load("targets")
    targets.verify_delegate("eu-central", role)
    info = role.signed.targets["eu-central/bundle.json"]
    data = bytes(bundle.target)
    assert info.length == len(data) and bundle.digest == "sha256:" + info.hashes["sha256"]
    parsed = protocol.parse_bundle(data, region="eu-central")
    content = parsed.content
    assert content["region"]["jurisdiction"] == "EEA"
    assert content["residency_rules"][0]["subject_country"] == "GB"
    assert {s["name"] for s in content["data_stores"]} == set(content["retention"])
    assert set(content["special_categories"]) <= set(content["categories"])
    assert role.signed.expires - bundle.issued == timedelta(days=7)
    snapshot = repository.load("snapshot")
    assert snapshot.signed.meta["eu-central.json"].version == 1
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


def _rules(region):
    return list(ResidencyRule.objects.filter(region=region).order_by("position"))


def test_many_changes_in_one_transaction_publish_each_region_once(
    estate, bundle_keys, django_capture_on_commit_callbacks
):
    """Each estate save has its own savepoint, released before the next one: the demo seed's
    forty-odd saves once queued forty-odd publishes (each rebuilding the routing table)."""
    with django_capture_on_commit_callbacks() as queued:
        with transaction.atomic():
            for region in (estate.eu_central, estate.us_east, estate.eu_central):
                rule = _rules(region)[-1]
                rule.contract_tag = f"tag-{region.slug}"
                estate_object_save(instance=rule, by=estate.admin)
    publishes = [c for c in queued if getattr(c, "on_commit_kind", "") == "publish-regions"]
    assert len(publishes) == 1
    assert publishes[0].pending_region_ids == {estate.eu_central.pk, estate.us_east.pk}


def test_a_rolled_back_change_never_takes_a_later_change_with_it(
    estate, bundle_keys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    rule = _rules(estate.us_east)[-1]
                    rule.contract_tag = "rolled-back"
                    estate_object_save(instance=rule, by=estate.admin)
                    raise RuntimeError("abandon the savepoint")
            except RuntimeError:
                pass
            rule = _rules(estate.eu_central)[-1]
            rule.contract_tag = "kept"
            estate_object_save(instance=rule, by=estate.admin)
    publishes = [c for c in queued if getattr(c, "on_commit_kind", "") == "publish-regions"]
    assert [c.pending_region_ids for c in publishes] == [{estate.eu_central.pk}]


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
    settings.TUF_KEY_DIR = str(tmp_path / "nope")
    keys._cache.clear()
    with pytest.raises(keys.KeyMaterialMissing, match="bundle_keys init"):
        services.publish_region(region=estate.eu_central)


def test_keys_are_files_with_private_permissions(estate, bundle_keys, settings):
    import os
    import stat
    from pathlib import Path

    services.publish_region(region=estate.eu_central)
    files = list(Path(settings.TUF_KEY_DIR).rglob("*.key"))
    files += list(Path(settings.TUF_ROOT_KEY_DIR).rglob("*.key"))
    assert {f.parent.name for f in files} >= {"online", "regions", "tuf-root-keys"}
    for path in files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # The online processes never need the root keys: they live in a directory of their own.
    assert not any(Path(settings.TUF_KEY_DIR).rglob("tuf-root-keys"))


def test_one_regions_key_cannot_sign_another_regions_bundle(estate, bundle_keys):
    services.publish_region(region=estate.eu_central)
    services.publish_region(region=estate.us_east)
    delegations = repository.load("targets").signed.delegations
    eu, us = delegations.roles["eu-central"], delegations.roles["us-east"]
    assert set(eu.keyids).isdisjoint(us.keyids)
    assert eu.paths == ["eu-central/*"] and us.paths == ["us-east/*"]
    assert eu.terminating and us.terminating


def test_a_bundle_from_before_the_tuf_repository_is_republished_into_it(estate, bundle_keys):
    first = services.publish_region(region=estate.eu_central)
    ConfigBundle.objects.filter(pk=first.pk).update(role_version=0)  # as migrated from v1
    again = services.publish_region(region=estate.eu_central)
    assert again is not None and again.role_version == 2
    assert services.publish_region(region=estate.eu_central) is None
