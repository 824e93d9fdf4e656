"""Every refusal of the protocol, exercised over HTTP against the simulated control plane."""

from __future__ import annotations

import copy
import json
import random
from datetime import timedelta

import pytest

from agents import protocol
from agents.client import next_delay
from agents.config import AgentConfig
from tests.agents.agent_sim import REGION, sample_content


def test_canonical_json_is_sorted_compact_utf8():
    assert protocol.canonical_json({"b": 1, "a": "é", "c": [1, {"z": 0, "y": None}]}) == (
        '{"a":"é","b":1,"c":[1,{"y":null,"z":0}]}'.encode()
    )
    assert protocol.digest_of({"a": 1}).startswith("sha256:")
    with pytest.raises(ValueError):
        protocol.canonical_json({"x": float("nan")})


def test_first_poll_applies_then_304_with_if_none_match(sim, repo, make_agent):
    agent = make_agent()
    result = agent.poll_once()
    assert (result.outcome, result.version) == ("applied", 1)
    digest = protocol.digest_of(repo.latest["payload"])
    assert agent.applied.digest == digest
    assert "If-None-Match" not in sim.requests[0]

    assert agent.poll_once().outcome == "unchanged"
    assert sim.requests[-1]["If-None-Match"] == f'"{digest}"'

    repo.publish()
    assert (agent.poll_once().outcome, agent.applied.version) == ("applied", 2)
    assert agent.report_status()
    assert sim.reports[-1]["applied_version"] == 2
    assert sim.reports[-1]["applied_digest"] == agent.applied.digest


def _refused(agent, code):
    before = agent.applied
    result = agent.poll_once()
    assert (result.outcome, result.code) == ("refused", code), result
    assert agent.applied == before, "the last good bundle must stay applied"
    assert agent.last_error["code"] == code
    return result


def test_tampered_payload_is_a_bad_signature(sim, repo, make_agent):
    agent = make_agent()
    agent.poll_once()
    tampered = repo.build(version=2)
    tampered["payload"]["content"]["residency_rules"] = []
    tampered["payload"]["content_digest"] = protocol.digest_of(tampered["payload"]["content"])
    sim.body_override = protocol.canonical_json(tampered)
    sim.freshness_override = repo.freshness_for(tampered)
    _refused(agent, "bad_signature")
    assert agent.route({"subject_country": "DE"}).accepted


def test_bundle_signed_by_key_not_in_keyring(sim, repo, make_agent):
    agent = make_agent()
    rogue = protocol.generate_private_key()
    env = repo.publish(key=rogue)
    sim.freshness_override = repo.freshness_for(env, key=rogue)
    result = agent.poll_once()
    assert (result.outcome, result.code) == ("refused", "key_not_endorsed")


def test_keyring_not_signed_by_root(sim, repo, make_agent):
    agent = make_agent()
    fake_root = protocol.generate_private_key()
    rogue_keyring = protocol.make_keyring(
        root_key=fake_root,
        signing_keys=[(repo.signing_key, protocol.utcnow() + timedelta(days=1))],
        version=9,
        issued=protocol.utcnow(),
    )
    repo.publish(keyring=rogue_keyring)
    assert agent.poll_once().code == "key_not_endorsed"


def test_signing_key_past_its_own_expiry_is_not_endorsed(sim, repo, make_agent, clock):
    repo.set_keyring([repo.signing_key], key_expiry=protocol.utcnow() + timedelta(hours=1))
    repo.publish()
    clock.shift(timedelta(hours=2))
    agent = make_agent()
    assert agent.poll_once().code == "key_not_endorsed"


def test_rotated_key_is_accepted_and_revoked_key_refused(sim, repo, make_agent):
    agent = make_agent()
    assert agent.poll_once().outcome == "applied"
    old_key, new_key = repo.signing_key, protocol.generate_private_key()
    old_keyring = repo.keyring
    repo.signing_key = new_key
    repo.set_keyring([new_key])  # version 2 revokes the old key
    # The control plane re-signs the current payload: same digest, new key and keyring. The 304
    # carries freshness signed by the new key, so the agent refetches in full and keeps it.
    v1 = repo.versions[1]
    repo.versions[1] = protocol.sign_bundle(
        v1["payload"], signing_key=new_key, keyring=repo.keyring
    )
    assert agent.poll_once().outcome == "unchanged"
    assert agent.applied.keyring_version == 2
    assert "If-None-Match" not in sim.requests[-1]
    assert agent.poll_once().outcome == "unchanged"
    assert "If-None-Match" in sim.requests[-1]
    repo.publish()
    assert (agent.poll_once().outcome, agent.applied.version) == ("applied", 2)
    assert agent.applied.keyring_version == 2

    # Replaying the old keyring (which still endorses the old key) is a keyring rollback.
    stale = repo.build(version=3, key=old_key, keyring=old_keyring)
    sim.body_override = protocol.canonical_json(stale)
    sim.freshness_override = repo.freshness_for(stale, key=old_key)
    _refused(agent, "keyring_rollback")

    # The old key with the new keyring: not endorsed.
    revoked = repo.build(version=3, key=old_key)
    sim.body_override = protocol.canonical_json(revoked)
    sim.freshness_override = repo.freshness_for(revoked, key=new_key)
    _refused(agent, "key_not_endorsed")


def test_other_regions_bundle(sim, repo, make_agent):
    agent = make_agent()
    foreign = repo.publish(region="us-east", content=sample_content("us-east"))
    sim.freshness_override = repo.freshness_for(
        {"payload": {**foreign["payload"], "region": REGION}}
    )
    assert agent.poll_once().code == "wrong_region"


def test_rollback_to_a_lower_version(sim, repo, make_agent):
    agent = make_agent()
    repo.publish()
    assert agent.poll_once().version == 2
    old = repo.versions[1]
    sim.body_override = protocol.canonical_json(old)
    sim.freshness_override = repo.freshness_for(old)
    _refused(agent, "rollback")


def test_same_version_with_another_digest(sim, repo, make_agent):
    agent = make_agent()
    agent.poll_once()
    twin = repo.build(version=1, content=sample_content(note="other"))
    sim.body_override = protocol.canonical_json(twin)
    sim.freshness_override = repo.freshness_for(twin)
    _refused(agent, "version_digest_mismatch")


def test_expired_bundle_is_refused_as_a_freeze(sim, repo, make_agent, clock):
    agent = make_agent()
    agent.poll_once()
    repo.publish(expires=protocol.utcnow() + timedelta(hours=1))
    clock.shift(timedelta(hours=2))
    _refused(agent, "bundle_expired")


def test_stale_freshness_on_304_detects_a_frozen_server(sim, repo, make_agent, clock):
    agent = make_agent()
    agent.poll_once()
    frozen = repo.freshness_for(repo.latest)
    sim.freshness_override = frozen  # the server replays one statement forever
    clock.shift(timedelta(minutes=5))
    assert agent.poll_once().outcome == "unchanged"
    clock.shift(timedelta(minutes=6))
    _refused(agent, "freshness_stale")


def test_missing_freshness_statement(sim, repo, make_agent):
    agent = make_agent()
    sim.omit_freshness = True
    assert agent.poll_once().code == "freshness_stale"
    assert agent.applied.version == 0


def test_freshness_older_than_applied_version(sim, repo, make_agent):
    agent = make_agent()
    repo.publish()
    agent.poll_once()
    sim.freshness_override = repo.freshness_for(repo.versions[1])
    _refused(agent, "freshness_stale")


def test_old_bundle_served_with_current_freshness(sim, repo, make_agent):
    agent = make_agent()
    repo.publish()
    sim.body_override = protocol.canonical_json(repo.versions[1])
    assert agent.poll_once().code == "freshness_mismatch"


def test_unknown_schema(sim, repo, make_agent):
    agent = make_agent()
    agent.poll_once()
    repo.publish(schema="sovereign.bundle/v99")
    _refused(agent, "unknown_schema")


def test_body_over_the_size_cap(sim, repo, make_agent):
    agent = make_agent(max_bundle_bytes=2048)
    big = sample_content(note="x" * 5000)
    repo.publish(content=big)
    assert agent.poll_once().code == "too_large"


def test_content_digest_must_match(sim, repo, make_agent):
    env = repo.build()
    env["payload"]["content_digest"] = "sha256:" + "0" * 64
    env = protocol.sign_bundle(env["payload"], signing_key=repo.signing_key, keyring=repo.keyring)
    repo.versions[2] = env
    assert make_agent().poll_once().code == "malformed"


def test_unreachable_control_plane_is_an_error_not_a_refusal(repo, tmp_path, clock):
    from agents.client import Agent

    agent = Agent(
        AgentConfig(
            url="http://127.0.0.1:9",
            token="t",
            region=REGION,
            root_key=repo.root_public,
            state_dir=str(tmp_path),
            timeout=1,
        )
    )
    assert agent.poll_once().outcome == "error"


def test_long_poll_sends_prefer_wait(sim, make_agent):
    agent = make_agent(long_poll=25)
    agent.poll_once()
    agent.poll_once()
    assert sim.requests[-1]["Prefer"] == "wait=25"


def test_poll_delay_jitter_and_backoff():
    config = AgentConfig(poll_min=10, poll_max=30, backoff_max=300)
    rng = random.Random(7)
    plain = [next_delay(0, config, rng) for _ in range(200)]
    assert all(10 <= d <= 30 for d in plain) and max(plain) - min(plain) > 10
    assert all(10 <= next_delay(1, config, rng) <= 20 for _ in range(50))
    assert all(40 <= next_delay(3, config, rng) <= 80 for _ in range(50))
    assert all(150 <= next_delay(12, config, rng) <= 300 for _ in range(50))
    assert all(0 <= next_delay(0, config, rng, long_poll=True) <= 1 for _ in range(50))


def test_verify_bundle_offline_reports_each_error_type(repo):
    root = protocol.load_public_key(repo.root_public)
    env = repo.build(version=4)
    ok = protocol.verify_bundle(env, root_public_key=root, region=None)
    assert ok.version == 4 and ok.signed_by == protocol.key_id(repo.signing_key)
    broken = copy.deepcopy(env)
    broken["signatures"][0]["sig"] = "not base64!"
    with pytest.raises(protocol.BadSignatureError):
        protocol.verify_bundle(broken, root_public_key=root, region=None)
    broken["signatures"] = []
    with pytest.raises(protocol.BadSignatureError):
        protocol.verify_bundle(broken, root_public_key=root, region=None)
    with pytest.raises(protocol.MalformedError):
        protocol.parse_json_bytes(b"{not json")
    assert json.loads(protocol.canonical_json(env)) == env
