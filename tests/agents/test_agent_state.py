"""Atomic apply, restart from the state directory, and tamper detection."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from agents import protocol
from agents.state import StateStore, TamperedStateError, atomic_write
from tests.agents.agent_sim import REGION


def test_atomic_write_replaces_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "f.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.json"]


def test_atomic_write_failure_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.json"
    atomic_write(target, b"good")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(target, b"bad")
    monkeypatch.undo()
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_restart_loads_last_good_bundle_with_control_plane_down(sim, repo, make_agent):
    first = make_agent()
    assert first.poll_once().outcome == "applied"
    sim.close()  # the control plane is gone
    second = make_agent()
    assert second.applied == first.applied
    assert second.route({"subject_country": "DE"}).accepted
    assert second.poll_once().outcome == "error"
    assert second.applied.version == 1


def test_restarted_agent_still_refuses_rollback(sim, repo, make_agent):
    repo.publish()
    make_agent().poll_once()
    again = make_agent()
    assert again.applied.version == 2
    sim.body_override = protocol.canonical_json(repo.versions[1])
    sim.freshness_override = repo.freshness_for(repo.versions[1])
    assert again.poll_once().code == "rollback"


def _applied_state_dir(make_agent):
    agent = make_agent()
    agent.poll_once()
    return agent, StateStore(agent.config.state_dir)


def test_edited_bundle_file_is_detected(sim, repo, make_agent):
    agent, store = _applied_state_dir(make_agent)
    env = json.loads(store.bundle_path.read_bytes())
    env["payload"]["content"]["residency_rules"] = []
    env["payload"]["content_digest"] = protocol.digest_of(env["payload"]["content"])
    store.bundle_path.write_bytes(protocol.canonical_json(env))
    with pytest.raises(TamperedStateError, match="fails verification"):
        store.load(root_public_key=agent.root_key, region=REGION)
    restarted = make_agent()
    assert restarted.bundle is None
    assert restarted.last_error["code"] == "state_tampered"
    assert restarted.route({"subject_country": "DE"}).code == "no_bundle"
    # A good bundle from the control plane heals it.
    assert restarted.poll_once().outcome == "applied"
    assert make_agent().bundle is not None


def test_state_file_edited_to_lower_version_is_detected(sim, repo, make_agent):
    repo.publish()
    agent, store = _applied_state_dir(make_agent)
    # Swap in the genuine, older version 1 and make state.json agree with it.
    store.bundle_path.write_bytes(protocol.canonical_json(repo.versions[1]))
    state = store.read_state()
    state.update(version=1, digest=protocol.digest_of(repo.versions[1]["payload"]))
    store.state_path.write_text(json.dumps(state))
    with pytest.raises(TamperedStateError, match="older than the recorded"):
        store.load(root_public_key=agent.root_key, region=REGION)


def test_state_digest_mismatch_is_detected(sim, repo, make_agent):
    agent, store = _applied_state_dir(make_agent)
    state = store.read_state()
    state["digest"] = "sha256:" + "f" * 64
    store.state_path.write_text(json.dumps(state))
    with pytest.raises(TamperedStateError, match="digest"):
        store.load(root_public_key=agent.root_key, region=REGION)


def test_missing_bundle_file_is_detected(sim, repo, make_agent):
    agent, store = _applied_state_dir(make_agent)
    store.bundle_path.unlink()
    with pytest.raises(TamperedStateError):
        store.load(root_public_key=agent.root_key, region=REGION)


def test_crash_between_bundle_and_state_write_is_repaired(sim, repo, make_agent):
    agent, store = _applied_state_dir(make_agent)
    newer = repo.publish()
    atomic_write(store.bundle_path, protocol.canonical_json(newer))  # state.json not updated
    loaded = store.load(root_public_key=agent.root_key, region=REGION)
    assert loaded.applied.version == 2
    assert store.read_state()["version"] == 2


def test_expired_last_good_bundle_still_loads_and_says_so(sim, repo, make_agent, clock):
    repo.publish(expires=protocol.utcnow() + timedelta(hours=1))
    make_agent().poll_once()
    clock.shift(timedelta(hours=3))
    sim.close()
    agent = make_agent()
    assert agent.applied.version == 2
    assert agent.status()["expired"] is True


def test_start_removes_temp_files_left_by_a_crash(sim, repo, make_agent):
    agent = make_agent()
    agent.poll_once()
    state_dir = agent.store.dir
    (state_dir / ".bundle.json.abc123.tmp").write_bytes(b'{"half": ')
    (state_dir / ".state.json.def456.tmp").write_bytes(b"")
    (state_dir / "operator-notes.txt").write_text("not ours")
    restarted = make_agent()
    assert restarted.applied.version == 1
    assert sorted(p.name for p in state_dir.iterdir()) == [
        "bundle.json",
        "operator-notes.txt",
        "state.json",
    ]
