"""The agent API: bearer tokens, one region each, ETag/304 without tables, freshness, status."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from agents import protocol
from controlplane.audit.models import AuditEvent
from controlplane.distribution import services
from regions.models import Agent

pytestmark = pytest.mark.django_db

BUNDLE = "/api/v1/agent/bundle"
STATUS = "/api/v1/agent/status"


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_no_token_or_a_wrong_one_is_401(client, enrolled):
    assert client.get(BUNDLE).status_code == 401
    response = client.get(BUNDLE, **auth("sva_not-a-real-token"))
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert client.post(STATUS, {}, content_type="application/json").status_code in (401, 403)


def test_bundle_answer_verifies_with_the_agents_own_code(client, enrolled, bundle_keys):
    agent, token = enrolled
    response = client.get(BUNDLE, **auth(token))
    assert response.status_code == 200
    envelope = protocol.parse_json_bytes(response.content)
    bundle = protocol.verify_bundle(
        envelope, root_public_key=protocol.load_public_key(bundle_keys), region="eu-central"
    )
    assert response["ETag"] == f'"{bundle.digest}"'
    freshness = protocol.verify_freshness(
        protocol.decode_header(response[protocol.FRESHNESS_HEADER]),
        keyring=bundle.keyring,
        region="eu-central",
    )
    protocol.check_bundle_matches_freshness(bundle, freshness)


def test_304_path_touches_no_table_once_warm(client, enrolled, django_assert_num_queries):
    agent, token = enrolled
    digest = client.get(BUNDLE, **auth(token))["ETag"]
    with django_assert_num_queries(0):
        response = client.get(BUNDLE, HTTP_IF_NONE_MATCH=digest, **auth(token))
    assert response.status_code == 304 and response.content == b""
    assert response["ETag"] == digest
    assert response[protocol.FRESHNESS_HEADER]


def test_a_new_version_answers_200_to_the_old_etag(
    client, enrolled, estate, django_capture_on_commit_callbacks
):
    agent, token = enrolled
    old = client.get(BUNDLE, **auth(token))["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_region(region=estate.eu_central, force=True)
    response = client.get(BUNDLE, HTTP_IF_NONE_MATCH=old, **auth(token))
    assert response.status_code == 200 and response["ETag"] != old


def test_long_poll_times_out_with_a_304(client, enrolled, settings):
    agent, token = enrolled
    etag = client.get(BUNDLE, **auth(token))["ETag"]
    settings.AGENT_LONG_POLL_MAX = 1
    response = client.get(BUNDLE, HTTP_IF_NONE_MATCH=etag, HTTP_PREFER="wait=30", **auth(token))
    assert response.status_code == 304


def test_heartbeat_is_one_update_per_interval(client, enrolled):
    agent, token = enrolled
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.get(BUNDLE, **auth(token))
        first = Agent.objects.get(pk=agent.pk).last_seen
        assert first is not None
        clock.shift(timedelta(seconds=20))
        client.get(BUNDLE, **auth(token))
        assert Agent.objects.get(pk=agent.pk).last_seen == first
        clock.shift(timedelta(seconds=15))
        client.get(BUNDLE, **auth(token))
        assert Agent.objects.get(pk=agent.pk).last_seen > first


def test_token_opens_only_its_own_region(client, enrolled, estate):
    agent, token = enrolled
    services.publish_region(region=estate.us_east)
    envelope = client.get(BUNDLE, **auth(token)).json()
    assert envelope["payload"]["region"] == "eu-central"
    foreign = {"region": "us-east", "applied_version": 1}
    response = client.post(STATUS, foreign, content_type="application/json", **auth(token))
    assert response.status_code == 403
    # An agent token is not a person: people's API refuses it.
    assert client.get("/api/v1/regions/", **auth(token)).status_code in (401, 403)
    assert client.get("/api/v1/agents/", **auth(token)).status_code in (401, 403)


def test_revoked_and_rotated_tokens_stop_working(client, enrolled):
    agent, token = enrolled
    assert client.get(BUNDLE, **auth(token)).status_code == 200
    new_token = services.agent_rotate_token(agent=agent)
    assert client.get(BUNDLE, **auth(token)).status_code == 401
    assert client.get(BUNDLE, **auth(new_token)).status_code == 200
    services.agent_revoke(agent=agent)
    assert client.get(BUNDLE, **auth(new_token)).status_code == 401
    assert Agent.objects.get(pk=agent.pk).token_hash != new_token  # only the hash is stored


def test_status_report_records_applied_state_and_drift(
    client, enrolled, estate, django_capture_on_commit_callbacks
):
    agent, token = enrolled
    head = client.get(BUNDLE, **auth(token))
    digest = head["ETag"].strip('"')
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
        digest = client.get(BUNDLE, **auth(token))["ETag"].strip('"')
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


def test_missing_signing_key_is_a_clear_503(client, enrolled, settings, tmp_path):
    from controlplane.distribution import signing

    agent, token = enrolled
    settings.BUNDLE_SIGNING_KEY_FILE = str(tmp_path / "gone.key")
    signing._cache.clear()
    response = client.get(BUNDLE, **auth(token))
    assert response.status_code == 503 and "bundle_keys init" in response.json()["detail"]
