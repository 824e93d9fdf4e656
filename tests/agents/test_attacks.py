"""TUF's attack list against a real agent process and a malicious control plane.

Each test starts ``python -m agents.cli run`` against ``TufServer`` (a TUF repository served
over HTTP), lets it apply version 1, then makes the server (or a push client) misbehave. Each
asserts the refusal and its reported reason (the status report the control plane receives),
and that the process is still running and serving its last good state (``/status`` and
``/route``), or, for a freeze, that it fails closed and says why.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from datetime import timedelta

import pytest
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import Metadata, TargetFile, Targets, Timestamp

from agents import protocol
from agents.transport import request
from tests.agents.evil_server import EvilServer, ok, wait_for
from tests.agents.process import AgentProcess
from tests.agents.tuf_sim import COMPACT, OTHER, REGION, TufRepo, TufServer

pytestmark = pytest.mark.integration


@pytest.fixture
def repo():
    return TufRepo(timestamp_ttl=timedelta(hours=1))


@pytest.fixture
def sim(repo):
    server = TufServer(repo)
    yield server
    server.close()


@pytest.fixture
def start(sim, tmp_path):
    started = []

    def launch(**kwargs) -> AgentProcess:
        agent = AgentProcess(sim, tmp_path, **kwargs)
        started.append(agent)
        return agent

    yield launch
    for agent in started:
        agent.stop()


@pytest.fixture
def agent(start):
    process = start()
    applied = wait_for(lambda: (process.status() or {}).get("applied_version") == 1)
    assert applied, process.text()
    return process


def refused(sim, code, timeout=10):
    """The report the control plane receives, naming the refusal."""
    sim.reports.clear()
    report = wait_for(
        lambda: next(
            (r for r in list(sim.reports) if (r.get("last_error") or {}).get("code") == code),
            None,
        ),
        timeout=timeout,
    )
    seen = {(r.get("last_error") or {}).get("code") for r in sim.reports}
    assert report, f"no report of {code!r}; saw {seen}"
    return report


def still_serving(agent, version=1):
    assert agent.alive(), agent.text()
    status = agent.status()
    assert status["applied_version"] == version and not status["expired"]
    code, body = agent.route()
    assert code == 200 and body["data_store"] == "eu-main", body


def _role_signed_by(repo, signer, *, data, version):
    path = protocol.target_path(REGION)
    role = Metadata(
        Targets(
            version=version,
            expires=repo.roles[REGION].signed.expires,
            targets={
                path: TargetFile(
                    length=len(data), hashes={"sha256": hashlib.sha256(data).hexdigest()}, path=path
                )
            },
        )
    )
    role.sign(signer)
    return role.to_bytes(COMPACT)


# --------------------------------------------------------------------------- the list


def test_arbitrary_bundle_is_refused(repo, sim, agent):
    """The server answers the bundle's URL with other bytes of the same length."""
    data = repo.publish()
    forged = data.replace(b'"v2"', b'"xx"')
    assert len(forged) == len(data) and forged != data
    sha = hashlib.sha256(data).hexdigest()
    sim.override[f"targets/{REGION}/{sha}.bundle.json"] = forged
    report = refused(sim, "hash_mismatch")
    assert report["applied_version"] == 1
    still_serving(agent)


def test_rollback_to_an_older_timestamp_is_refused(repo, sim, agent):
    old = repo.timestamp_bytes
    repo.publish()
    wait_for(lambda: agent.status()["applied_version"] == 2)
    sim.override["timestamp.json"] = old
    refused(sim, "rollback")
    still_serving(agent, version=2)


def test_indefinite_freeze_fails_closed_and_says_why(repo, sim, start):
    repo.new_timestamp(expires=protocol.utcnow() + timedelta(seconds=4))
    agent = start()
    assert wait_for(lambda: (agent.status() or {}).get("applied_version") == 1)
    frozen = repo.timestamp_bytes  # the server keeps serving this, never a new one
    sim.override["timestamp.json"] = frozen
    refused(sim, "metadata_expired", timeout=15)
    assert agent.alive()
    status = agent.status()
    assert status["expired"] is True and status["applied_version"] == 1
    code, body = agent.route()
    assert (code, body["code"]) == (403, "expired")
    assert "metadata_expired" in body["message"]


def test_mix_and_match_of_old_role_with_new_snapshot_is_refused(repo, sim, agent):
    old_role = repo.files[f"1.{REGION}.json"]
    repo.publish()
    sim.override[f"2.{REGION}.json"] = old_role
    # The snapshot lists each role's version, length and hash: the old file does not match.
    refused(sim, "hash_mismatch")
    still_serving(agent)


def _serve_forged_role(repo, forged: bytes, version: int, data: bytes) -> None:
    """The attacker also holds the online snapshot and timestamp keys: the snapshot lists the
    forged role's hash, so only the delegation's key check stands between it and the agent."""
    repo.targets_files[f"{REGION}/{hashlib.sha256(data).hexdigest()}.bundle.json"] = data
    repo.files[f"{version}.{REGION}.json"] = forged
    repo.versions[REGION] = version
    repo.snapshot_and_timestamp()


def test_foreign_regions_key_cannot_sign_this_regions_bundle(repo, sim, agent):
    data = repo.bundle(REGION, version=2)
    forged = _role_signed_by(repo, repo.region_signers[OTHER], data=data, version=2)
    _serve_forged_role(repo, forged, 2, data)
    refused(sim, "bad_signature")
    still_serving(agent)


def test_bundle_for_another_region_is_refused(repo, sim, agent):
    repo.publish(data=repo.bundle(REGION, version=2, for_region=OTHER))
    refused(sim, "wrong_region")
    still_serving(agent)


def test_endless_data_stops_at_the_cap(sim, agent):
    def endless(handler):
        handler.send_response(200)
        handler.end_headers()
        try:
            while True:
                handler.wfile.write(b" " * 65536)
        except OSError:
            pass

    sim.override["timestamp.json"] = endless
    refused(sim, "too_large")
    still_serving(agent)


def test_slow_retrieval_hits_the_deadline(sim, agent):
    def drip(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "5000")
        handler.end_headers()
        try:
            for _ in range(5000):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    sim.override["timestamp.json"] = drip
    refused(sim, "timeout")
    still_serving(agent)


def test_fast_forward_after_key_compromise_recovers_on_rotation(repo, sim, agent):
    """An attacker with the timestamp and snapshot keys pushes versions far ahead; once the
    control plane rotates those keys (root v2) the agent follows the genuine repository."""
    repo.publish()
    repo.snapshot_and_timestamp(snapshot_version=10_000, timestamp_version=1_000_000)
    wait_for(lambda: agent.status()["applied_version"] == 2)
    # The compromise is found: keys rotated, the repository goes on from its own versions.
    repo.rotate("timestamp")
    repo.rotate("snapshot")
    repo.versions["snapshot"], repo.versions["timestamp"] = 3, 3
    repo.publish()
    assert wait_for(lambda: agent.status()["applied_version"] == 3, timeout=15), agent.text()
    assert agent.status()["last_error"] is None


def test_revoked_region_key_is_never_accepted(repo, sim, agent):
    old = repo.rotate_region()
    wait_for(lambda: (agent.status() or {}).get("last_refresh_ok"))
    data = repo.bundle(REGION, version=3)
    repo.publish(data=data)  # genuine version 3 of the role, with the new key
    wait_for(lambda: agent.status()["applied_version"] == 3)
    evil = repo.bundle(REGION, version=4, content={"region": {"slug": REGION}})
    _serve_forged_role(repo, _role_signed_by(repo, old, data=evil, version=4), 4, evil)
    refused(sim, "bad_signature")  # signed with the revoked key: never accepted
    still_serving(agent, version=3)


def test_revoked_timestamp_key_is_never_accepted(repo, sim, agent):
    old = repo.signers["timestamp"]
    repo.rotate("timestamp")
    wait_for(lambda: agent.status()["last_refresh_ok"])
    forged = Metadata(
        Timestamp(
            version=repo.versions["timestamp"] + 1,
            expires=protocol.utcnow().replace(microsecond=0) + timedelta(days=30),
            snapshot_meta=repo._meta("snapshot"),
        )
    )
    forged.sign(old)
    sim.override["timestamp.json"] = forged.to_bytes(COMPACT)
    refused(sim, "bad_signature")
    still_serving(agent)


def test_revoked_root_key_cannot_sign_a_new_root(repo, sim, agent):
    old = repo.root_signers[0]
    repo.rotate("root")  # root v2: the old root key is gone
    wait_for(lambda: agent.status()["last_refresh_ok"])
    evil = Metadata.from_bytes(repo.files["2.root.json"])
    evil.signed.version = 3
    intruder = CryptoSigner.generate_ed25519()
    for role in ("timestamp", "snapshot", "targets"):
        for keyid in list(evil.signed.roles[role].keyids):
            evil.signed.revoke_key(keyid, role)
        evil.signed.add_key(intruder.public_key, role)
    evil.signatures.clear()
    evil.sign(old)
    sim.override["3.root.json"] = evil.to_bytes(COMPACT)
    refused(sim, "bad_signature")
    still_serving(agent)


@pytest.mark.parametrize(
    "body",
    [
        b'{"signed": NaN}',
        b'{"signed": {"version": 1e400}}',
        b'{"signed": "\\udc00"}',
        b"[" * 5000 + b"]" * 5000,
        b"not json at all",
    ],
    ids=["nan", "huge-number", "lone-surrogate", "deep-nesting", "garbage"],
)
def test_malformed_json_is_a_reported_refusal(sim, agent, body):
    sim.override["timestamp.json"] = body
    refused(sim, "malformed")
    still_serving(agent)


@pytest.mark.parametrize(
    "answer, code",
    [
        (b"HTTP/1.1 OK 200\r\n\r\n", "bad_http"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 2000 + b"\r\n", "too_large"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnothex\r\n", "bad_http"),
    ],
    ids=["status-line", "too-many-headers", "chunk-size"],
)
def test_malformed_http_is_a_reported_refusal(sim, agent, answer, code):
    def raw(handler):
        handler.wfile.write(answer)

    sim.override["timestamp.json"] = raw
    refused(sim, code)
    still_serving(agent)


def test_redirect_to_another_origin_never_carries_the_token(sim, agent):
    thief = EvilServer(lambda conn, req: conn.sendall(ok(b"{}")))
    try:

        def redirect(handler):
            handler.send_response(302)
            handler.send_header("Location", f"{thief.url}/steal")
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        sim.override["timestamp.json"] = redirect
        refused(sim, "redirect_refused")
        assert thief.requests == []
        still_serving(agent)
    finally:
        thief.close()


def test_start_up_window_pushes_change_nothing_and_the_next_start_is_clean(repo, sim, start):
    first = start()
    assert wait_for(lambda: (first.status() or {}).get("applied_version") == 1)
    repo.publish()
    assert wait_for(lambda: first.status()["applied_version"] == 2)
    first.stop()
    sim.close()  # control plane down: the agent starts from its state directory only
    port_holder = start(url="http://127.0.0.1:9")
    old = repo.bundles[REGION][0]
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                request(
                    "POST", port_holder.base + "/bundle", body=old, deadline_s=1, max_bytes=1 << 16
                )
            except Exception:  # noqa: BLE001 - not listening yet, or cut off
                time.sleep(0.01)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        assert wait_for(lambda: (port_holder.status() or {}).get("applied_version") == 2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    status = port_holder.status()
    assert status["applied_version"] == 2
    assert (status["last_error"] or {}).get("code") != "state_tampered"
    port_holder.stop()
    again = start(url="http://127.0.0.1:9")
    assert wait_for(lambda: again.status())
    assert again.status()["applied_version"] == 2
    assert (again.status()["last_error"] or {}).get("code") != "state_tampered"


def test_slow_push_clients_are_dropped_and_capped(agent):
    slow = []
    for _ in range(12):
        sock = socket.create_connection(("127.0.0.1", agent.port), timeout=2)
        sock.sendall(b"POST /refresh HTTP/1.1\r\nContent-Le")  # and never more
        slow.append(sock)
    try:
        answers = []
        for sock in slow[-4:]:
            sock.settimeout(2)
            try:
                answers.append(sock.recv(100))
            except TimeoutError:
                answers.append(b"")
        assert any(a.startswith(b"HTTP/1.1 503") for a in answers)
        sock = slow[0]
        sock.settimeout(10)
        started = time.monotonic()
        while sock.recv(100):
            pass
        assert time.monotonic() - started < 3
        assert wait_for(lambda: agent.status(), timeout=10)["applied_version"] == 1
    finally:
        for sock in slow:
            sock.close()
