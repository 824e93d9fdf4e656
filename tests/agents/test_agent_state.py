"""Atomic apply, restart from the state directory, and tamper detection."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

from agents import protocol
from agents.state import StateStore, TamperedStateError, atomic_write
from tests.agents.tuf_sim import REGION


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
    assert second.bundle.digest == first.bundle.digest
    assert second.route({"subject_country": "DE"}).accepted
    result = second.poll_once()
    assert (result.outcome, result.code) == ("error", "unreachable")
    assert second.bundle.version == 1
    assert second.status()["last_error"]["code"] == "unreachable"
    assert second.status()["last_refresh_ok"] is False


def _applied_state_dir(make_agent):
    agent = make_agent()
    agent.poll_once()
    return agent, StateStore(agent.config.state_dir)


def test_edited_bundle_file_is_detected(sim, repo, make_agent):
    agent, store = _applied_state_dir(make_agent)
    payload = json.loads(store.bundle_path.read_bytes())
    payload["content"]["residency_rules"] = []
    payload["content_digest"] = protocol.digest_of(payload["content"])
    store.bundle_path.write_bytes(protocol.canonical_json(payload))
    with pytest.raises(TamperedStateError, match="not the target"):
        store.load(bootstrap=agent.bootstrap, region=REGION)
    restarted = make_agent()
    assert restarted.bundle is None
    assert restarted.last_error["code"] == "state_tampered"
    assert restarted.route({"subject_country": "DE"}).code == "no_bundle"
    # A good bundle from the control plane heals it.
    assert restarted.poll_once().outcome == "applied"
    assert make_agent().bundle is not None


def test_edited_metadata_is_detected(sim, repo, make_agent):
    agent, store = _applied_state_dir(make_agent)
    role = json.loads((store.metadata_dir / f"{REGION}.json").read_bytes())
    role["signed"]["expires"] = "2099-01-01T00:00:00Z"
    (store.metadata_dir / f"{REGION}.json").write_text(json.dumps(role))
    with pytest.raises(TamperedStateError, match="fails verification"):
        store.load(bootstrap=agent.bootstrap, region=REGION)


def test_older_genuine_bundle_swapped_in_is_detected(sim, repo, make_agent):
    make_agent().poll_once()
    repo.publish()
    agent, store = _applied_state_dir(make_agent)
    assert agent.bundle.version == 2
    store.bundle_path.write_bytes(repo.bundles[REGION][0])
    with pytest.raises(TamperedStateError, match="not the target"):
        store.load(bootstrap=agent.bootstrap, region=REGION)


def test_missing_bundle_file_is_detected(sim, repo, make_agent):
    agent, store = _applied_state_dir(make_agent)
    store.bundle_path.unlink()
    with pytest.raises(TamperedStateError):
        store.load(bootstrap=agent.bootstrap, region=REGION)


def test_crash_between_bundle_and_state_write_is_repaired(sim, repo, make_agent):
    agent, store = _applied_state_dir(make_agent)
    repo.publish()
    assert agent.poll_once().outcome == "applied"
    state = store.read_state()
    state.update(version=1, digest="sha256:" + "0" * 64)  # as if state.json lagged behind
    store.state_path.write_text(json.dumps(state))
    bundle, trust, state = store.load(bootstrap=agent.bootstrap, region=REGION)
    assert bundle.version == 2 and store.read_state()["version"] == 2


def test_crash_after_metadata_before_bundle_starts_empty_and_heals(sim, repo, make_agent):
    agent, store = _applied_state_dir(make_agent)
    old_bundle = store.bundle_path.read_bytes()
    repo.publish()
    assert agent.poll_once().outcome == "applied"
    store.bundle_path.write_bytes(old_bundle)  # metadata moved on, the new bundle never landed
    state = store.read_state()
    state.update(role_version=1)
    store.state_path.write_text(json.dumps(state))
    restarted = make_agent()
    assert restarted.bundle is None and restarted.last_error["code"] == "apply_interrupted"
    assert restarted.poll_once().outcome == "applied"


def test_expired_last_good_bundle_still_loads_routes_nothing_and_says_why(sim, repo, make_agent):
    repo.new_timestamp(expires=protocol.utcnow() + timedelta(hours=1))
    make_agent().poll_once()
    sim.close()
    later = protocol.utcnow() + timedelta(hours=3)
    agent = make_agent()
    agent.clock = lambda: later
    assert agent.bundle.version == 1
    status = agent.status()
    assert status["expired"] is True and status["expires"] < protocol.format_time(later)
    decision = agent.route({"subject_country": "DE"})
    assert (decision.accepted, decision.code) == (False, "expired")
    assert "expired at" in decision.message and "last successful refresh" in decision.message


def test_start_removes_temp_files_left_by_a_crash(sim, repo, make_agent):
    agent = make_agent()
    agent.poll_once()
    state_dir = agent.store.dir
    (state_dir / ".bundle.json.abc123.tmp").write_bytes(b'{"half": ')
    (state_dir / ".state.json.def456.tmp").write_bytes(b"")
    (state_dir / "metadata" / "tmpk2j3h4").write_bytes(b"{")
    (state_dir / "operator-notes.txt").write_text("not ours")
    restarted = make_agent()
    assert restarted.bundle.version == 1
    assert sorted(p.name for p in state_dir.iterdir()) == [
        "bundle.json",
        "metadata",
        "operator-notes.txt",
        "state.json",
    ]
    assert not [p for p in (state_dir / "metadata").iterdir() if p.name.startswith("tmp")]
