"""The agent API: bearer tokens, one region each, TUF metadata and targets, status reports."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from tuf.api.metadata import Metadata

from controlplane.audit.models import AuditEvent
from controlplane.distribution import services
from controlplane.distribution.models import ConfigBundle
from regions.models import Agent

pytestmark = pytest.mark.django_db

TUF = "/api/v1/agent/tuf/"
TIMESTAMP = TUF + "timestamp.json"
STATUS = "/api/v1/agent/status"


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _digest(region):
    return ConfigBundle.objects.filter(region=region).latest().digest


def test_no_token_or_a_wrong_one_is_401(client, enrolled):
    assert client.get(TIMESTAMP).status_code == 401
    response = client.get(TIMESTAMP, **auth("sva_not-a-real-token"))
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert client.post(STATUS, {}, content_type="application/json").status_code in (401, 403)


def test_the_repository_walks_from_timestamp_to_the_regions_bundle(client, enrolled, estate):
    """Each file names the next by version and hash, as TUF's client will walk them."""
    agent, token = enrolled
    timestamp = Metadata.from_bytes(client.get(TIMESTAMP, **auth(token)).content)
    snap_v = timestamp.signed.snapshot_meta.version
    snapshot = Metadata.from_bytes(
        client.get(f"{TUF}{snap_v}.snapshot.json", **auth(token)).content
    )
    role_v = snapshot.signed.meta["eu-central.json"].version
    targets_v = snapshot.signed.meta["targets.json"].version
    targets = Metadata.from_bytes(
        client.get(f"{TUF}{targets_v}.targets.json", **auth(token)).content
    )
    root = Metadata.from_bytes(client.get(f"{TUF}1.root.json", **auth(token)).content)
    root.verify_delegate("targets", targets)
    role = Metadata.from_bytes(client.get(f"{TUF}{role_v}.eu-central.json", **auth(token)).content)
    targets.verify_delegate("eu-central", role)
    info = role.signed.targets["eu-central/bundle.json"]
    sha = info.hashes["sha256"]
    body = client.get(f"{TUF}targets/eu-central/{sha}.bundle.json", **auth(token)).content
    assert len(body) == info.length and json.loads(body)["region"] == "eu-central"
    assert ConfigBundle.objects.get(region=estate.eu_central).digest == f"sha256:{sha}"
    # The delegation is per region and terminating: eu-central's key signs eu-central/* only.
    delegated = targets.signed.delegations.roles["eu-central"]
    assert delegated.paths == ["eu-central/*"] and delegated.terminating
    assert delegated.keyids != targets.signed.delegations.roles.get(
        "us-east", delegated
    ).keyids or ("us-east" not in targets.signed.delegations.roles)


def test_unchanged_timestamp_poll_touches_no_table_once_warm(
    client, enrolled, django_assert_num_queries
):
    agent, token = enrolled
    first = client.get(TIMESTAMP, **auth(token)).content
    with django_assert_num_queries(0):
        response = client.get(TIMESTAMP, **auth(token))
    assert response.status_code == 200 and response.content == first


def test_a_new_version_is_a_new_timestamp_at_once(
    client, enrolled, estate, django_capture_on_commit_callbacks
):
    agent, token = enrolled
    old = Metadata.from_bytes(client.get(TIMESTAMP, **auth(token)).content)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_region(region=estate.eu_central, force=True)
    new = Metadata.from_bytes(client.get(TIMESTAMP, **auth(token)).content)
    assert new.signed.version > old.signed.version
    assert new.signed.snapshot_meta.version > old.signed.snapshot_meta.version


def test_an_old_timestamp_is_re_signed_with_a_new_version(client, enrolled, settings):
    agent, token = enrolled
    settings.TUF_TIMESTAMP_RESIGN_SECONDS = 60
    old = Metadata.from_bytes(client.get(TIMESTAMP, **auth(token)).content)
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        services._memo.clear()
        new = Metadata.from_bytes(client.get(TIMESTAMP, **auth(token)).content)
    assert new.signed.version == old.signed.version + 1
    assert new.signed.expires > old.signed.expires


def test_heartbeat_is_one_update_per_interval(client, enrolled):
    agent, token = enrolled
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.get(TIMESTAMP, **auth(token))
        first = Agent.objects.get(pk=agent.pk).last_seen
        assert first is not None
        clock.shift(timedelta(seconds=20))
        client.get(TIMESTAMP, **auth(token))
        assert Agent.objects.get(pk=agent.pk).last_seen == first
        clock.shift(timedelta(seconds=15))
        client.get(TIMESTAMP, **auth(token))
        assert Agent.objects.get(pk=agent.pk).last_seen > first


def test_heartbeats_of_many_agents_are_one_update_a_second_per_process(
    client, estate, bundle_keys, settings, django_assert_num_queries
):
    """A thousand agents polling one process cost one heartbeat UPDATE a second, not one per
    poll; each agent's last_seen is the time of its own poll, and never goes back."""
    settings.AGENT_AUTH_CACHE_SECONDS = 300
    services.publish_region(region=estate.eu_central)
    tokens = [
        services.agent_enroll(region=estate.eu_central, name=f"eu-{n}", poll_interval=10)[1]
        for n in range(3)
    ]
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for token in tokens:  # warm: a first poll reads the database and writes at once
            assert client.get(TIMESTAMP, **auth(token)).status_code == 200
        clock.shift(timedelta(seconds=10))
        polled_at = timezone.now().replace(microsecond=0)  # written to the whole second
        with django_assert_num_queries(1):  # the first heartbeat of a quiet second: written
            client.get(TIMESTAMP, **auth(tokens[0]))
        with django_assert_num_queries(0):  # the others of that second wait for the next
            client.get(TIMESTAMP, **auth(tokens[1]))
            client.get(TIMESTAMP, **auth(tokens[2]))
        clock.shift(timedelta(seconds=1))
        with django_assert_num_queries(1):  # one statement writes both
            client.get(TIMESTAMP, **auth(tokens[0]))
    seen = set(Agent.objects.filter(name__startswith="eu-").values_list("last_seen", flat=True))
    assert seen == {polled_at}
    # A late batch never moves last_seen back (a status report wrote a later time meanwhile).
    later = polled_at + timedelta(seconds=5)
    Agent.objects.filter(name="eu-1").update(last_seen=later)
    services._memo.heartbeats[str(Agent.objects.get(name="eu-1").pk)] = polled_at.timestamp()
    assert services.write_heartbeats() == 0
    assert Agent.objects.get(name="eu-1").last_seen == later


def test_a_token_revoked_in_another_process_stops_polls_here_within_a_second(
    client, enrolled, settings
):
    """Another process revokes: it deletes the shared entry and changes the agents'
    generation. This process held the identity in memory; it drops it at its next read of the
    generation (at most a second later), well before AGENT_AUTH_CACHE_SECONDS."""
    settings.AGENT_AUTH_CACHE_SECONDS = 300
    agent, token = enrolled
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert client.get(TIMESTAMP, **auth(token)).status_code == 200
        Agent.objects.filter(pk=agent.pk).update(revoked_at=timezone.now())
        cache.delete(services._auth_key(agent.token_hash))
        cache.set(services.AGENTS_GENERATION_KEY, "changed-elsewhere", 60)
        assert client.get(TIMESTAMP, **auth(token)).status_code == 200  # within the second
        clock.shift(timedelta(seconds=1.1))
        assert client.get(TIMESTAMP, **auth(token)).status_code == 401


def test_a_shared_entry_cached_before_a_revocation_is_not_believed(client, enrolled, settings):
    """A poll that read the database just before a revocation committed may cache the agent
    after the revocation's invalidation: the entry carries the old generation and is refused."""
    agent, token = enrolled
    assert client.get(TIMESTAMP, **auth(token)).status_code == 200
    stale = cache.get(services._auth_key(agent.token_hash))
    assert stale is not None
    Agent.objects.filter(pk=agent.pk).update(revoked_at=timezone.now())
    services._new_agents_generation()  # the revocation's commit
    cache.set(services._auth_key(agent.token_hash), stale, 60)  # the late poll's write
    assert client.get(TIMESTAMP, **auth(token)).status_code == 401


def test_changing_an_agents_poll_interval_reaches_the_poll_path_at_once(
    client, enrolled, django_capture_on_commit_callbacks
):
    agent, token = enrolled
    client.get(TIMESTAMP, **auth(token))
    agent.poll_interval = 300
    with django_capture_on_commit_callbacks(execute=True):
        services.agent_update(agent=agent)
    assert services.authenticate_agent(token, memo=True).poll_interval == 300


def test_token_opens_only_its_own_region(client, enrolled, estate):
    agent, token = enrolled
    theirs = services.publish_region(region=estate.us_east)
    sha = theirs.digest.removeprefix("sha256:")
    assert client.get(f"{TUF}{theirs.role_version}.us-east.json", **auth(token)).status_code == 404
    assert client.get(f"{TUF}targets/us-east/{sha}.bundle.json", **auth(token)).status_code == 404
    assert (
        client.get(f"{TUF}targets/eu-central/{sha}.bundle.json", **auth(token)).status_code == 404
    )
    foreign = {"region": "us-east", "applied_version": 1}
    response = client.post(STATUS, foreign, content_type="application/json", **auth(token))
    assert response.status_code == 403
    # An agent token is not a person: people's API refuses it.
    assert client.get("/api/v1/regions/", **auth(token)).status_code in (401, 403)
    assert client.get("/api/v1/agents/", **auth(token)).status_code in (401, 403)


def test_revoked_and_rotated_tokens_stop_working(client, enrolled):
    agent, token = enrolled
    assert client.get(TIMESTAMP, **auth(token)).status_code == 200
    new_token = services.agent_rotate_token(agent=agent)
    assert client.get(TIMESTAMP, **auth(token)).status_code == 401
    assert client.get(TIMESTAMP, **auth(new_token)).status_code == 200
    services.agent_revoke(agent=agent)
    assert client.get(TIMESTAMP, **auth(new_token)).status_code == 401
    assert Agent.objects.get(pk=agent.pk).token_hash != new_token  # only the hash is stored


def test_status_report_records_applied_state_and_drift(
    client, enrolled, estate, django_capture_on_commit_callbacks
):
    agent, token = enrolled
    digest = _digest(estate.eu_central)
    report = {
        "region": "eu-central",
        "applied_version": 1,
        "applied_digest": digest,
        "agent_version": "0.1.0",
        "last_error": None,
    }
    response = client.post(STATUS, report, content_type="application/json", **auth(token))
    assert response.status_code == 200, response.content
    assert response.json()["drift"] == "synced"
    agent.refresh_from_db()
    assert (agent.applied_version, agent.applied_digest, agent.drift) == (1, digest, "synced")
    assert AuditEvent.objects.filter(action="agent.applied_bundle", actor_kind="agent").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.publish_region(region=estate.eu_central, force=True)
    refused = {**report, "last_error": {"code": "bad_signature", "message": "nope"}}
    response = client.post(STATUS, refused, content_type="application/json", **auth(token))
    assert response.json() == {
        "drift": "failed",
        "desired_version": 2,
        "desired_digest": response.json()["desired_digest"],
    }
    assert AuditEvent.objects.filter(action="agent.refused_bundle").count() == 1
    # Same report again: no new audit event.
    client.post(STATUS, refused, content_type="application/json", **auth(token))
    assert AuditEvent.objects.filter(action__startswith="agent.re").count() == 1


def test_a_change_of_agent_software_is_audited_once(client, enrolled, estate):
    agent, token = enrolled
    report = {
        "region": "eu-central",
        "applied_version": 1,
        "applied_digest": _digest(estate.eu_central),
        "agent_version": "0.1.0",
        "last_error": None,
    }
    for version in ["0.1.0", "0.1.0", "0.2.0", "0.2.0"]:
        response = client.post(
            STATUS, {**report, "agent_version": version}, content_type="application/json",
            **auth(token),
        )
        assert response.status_code == 200
    changes = AuditEvent.objects.filter(action="agent.software_changed").order_by("sequence")
    assert [e.data for e in changes] == [{"from": "", "to": "0.1.0"}, {"from": "0.1.0", "to": "0.2.0"}]
    assert {e.actor_kind for e in changes} == {"agent"} and changes[0].region == "eu-central"


def test_status_report_is_validated(client, enrolled):
    agent, token = enrolled
    bad = {"applied_version": "three", "applied_digest": "md5:abc"}
    response = client.post(STATUS, bad, content_type="application/json", **auth(token))
    assert response.status_code == 400
    assert set(response.json()) >= {"applied_version", "applied_digest"}


def test_status_report_with_personal_data_in_the_error_is_refused(client, enrolled):
    agent, token = enrolled
    report = {"last_error": {"code": "malformed", "message": "record of +49 30 1234 5678 broke"}}
    response = client.post(STATUS, report, content_type="application/json", **auth(token))
    assert response.status_code == 400
    assert "personal data" in str(response.json()["last_error"])
    agent.refresh_from_db()
    assert agent.last_error == "" and agent.reported_at is None


def test_drift_goes_unknown_after_three_silent_intervals(client, enrolled, estate):
    from controlplane.distribution import selectors

    agent, token = enrolled
    with time_machine.travel(timezone.now(), tick=False) as clock:
        digest = _digest(estate.eu_central)
        client.post(
            STATUS,
            {"applied_version": 1, "applied_digest": digest},
            content_type="application/json",
            **auth(token),
        )
        assert services.refresh_drift() == {"synced": 1}
        clock.shift(timedelta(seconds=91))
        assert services.refresh_drift() == {"unknown": 1}
        assert Agent.objects.get(pk=agent.pk).drift == "unknown"
        live = selectors.agents_with_drift(Agent.objects.all())
        assert [a.live_drift for a in live] == ["unknown"]


def test_people_see_drift_over_the_api_scoped_by_region(client, enrolled, make_user, estate):
    agent, token = enrolled
    insider = make_user("dpo", view=[estate.eu_central])
    outsider = make_user("dpo", view=[estate.us_east])
    client.force_login(insider)
    rows = client.get("/api/v1/agents/").json()
    assert [(r["name"], r["drift"], r["desired_version"]) for r in rows] == [("eu-1", "unknown", 1)]
    client.force_login(outsider)
    assert client.get("/api/v1/agents/").json() == []
    assert client.get(f"/api/v1/agents/{agent.pk}/").status_code == 404


def test_missing_keys_are_a_clear_503(client, enrolled, settings, tmp_path):
    from controlplane.distribution import keys

    agent, token = enrolled
    settings.TUF_KEY_DIR = str(tmp_path / "gone")
    settings.TUF_TIMESTAMP_RESIGN_SECONDS = 1
    keys._cache.clear()
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        response = client.get(TIMESTAMP, **auth(token))
    assert response.status_code == 503 and "bundle_keys init" in response.json()["detail"]
