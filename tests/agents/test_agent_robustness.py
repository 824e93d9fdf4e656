"""A real agent process against a malicious control plane and malicious push clients.

Every answer a server can make (malformed JSON, broken HTTP, a drip, a redirect) is a refusal
the agent reports; the process keeps running and keeps serving its last good bundle.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents import protocol
from agents.transport import request
from tests.agents.agent_sim import REGION, TOKEN, Repository
from tests.agents.evil_server import EvilServer, ok, wait_for

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Upstream:
    """An EvilServer whose answer to the bundle poll can be switched at run time."""

    def __init__(self, repo: Repository):
        self.repo = repo
        self.mode = "good"
        self.reports: list[dict] = []
        self.server = EvilServer(self._script)
        self.url = self.server.url

    def _script(self, conn, req):
        if req.startswith(b"POST "):
            self.reports.append(json.loads(req.partition(b"\r\n\r\n")[2] or b"{}"))
            conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
            return
        answer = getattr(self, "answer_" + self.mode, None)
        if answer is None:
            conn.sendall(MALICIOUS[self.mode])
        else:
            answer(conn)

    def answer_good(self, conn):
        latest = self.repo.latest
        body = protocol.canonical_json(latest)
        fresh = self.repo.freshness_for(latest)
        conn.sendall(ok(body, extra=f"{protocol.FRESHNESS_HEADER}: {fresh}\r\n".encode()))

    def answer_drip(self, conn):
        self.server.drip(conn, b"HTTP/1.1 200 OK\r\n" + b"X: " + b"a" * 10000, every=0.1)

    def close(self):
        self.server.close()


def _body(payload: bytes) -> bytes:
    return ok(payload)


MALICIOUS = {
    "nan": _body(b'{"payload": NaN}'),
    "huge_number": _body(b'{"payload": {"version": 1e400}}'),
    "surrogate": _body(b'{"payload": "\\udc00"}'),
    "deep": _body(b"[" * 200000 + b"]" * 200000),
    "status_line": b"HTTP/1.1 OK 200\r\n\r\n",
    "many_headers": b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 2000 + b"\r\n",
    "chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nnothex\r\n",
    "redirect": b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/steal\r\n\r\n",
}


@pytest.fixture
def upstream():
    repo = Repository()
    repo.publish()
    server = Upstream(repo)
    yield server
    server.close()


@pytest.fixture
def agent_process(upstream, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "SOVEREIGN_AGENT_URL": upstream.url,
        "SOVEREIGN_AGENT_TOKEN": TOKEN,
        "SOVEREIGN_AGENT_REGION": REGION,
        "SOVEREIGN_AGENT_ROOT_KEY": upstream.repo.root_public,
        "SOVEREIGN_AGENT_STATE_DIR": str(tmp_path / "state"),
        "SOVEREIGN_AGENT_POLL_MIN": "0.1",
        "SOVEREIGN_AGENT_POLL_MAX": "0.2",
        "SOVEREIGN_AGENT_BACKOFF_MAX": "0.3",
        "SOVEREIGN_AGENT_TIMEOUT": "1",
        "SOVEREIGN_AGENT_LISTEN": f"127.0.0.1:{port}",
        "SOVEREIGN_AGENT_LISTEN_DEADLINE": "1.5",
        "SOVEREIGN_AGENT_LISTEN_CONNECTIONS": "8",
    }
    log = open(tmp_path / "agent.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "agents.cli", "run"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    proc.base = f"http://127.0.0.1:{port}"
    proc.log = tmp_path / "agent.log"
    try:
        assert wait_for(lambda: _status(proc) and _status(proc)["applied_version"] == 1), (
            proc.log.read_text()
        )
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _status(proc) -> dict | None:
    try:
        resp = request("GET", proc.base + "/status", deadline_s=2, max_bytes=1 << 16)
    except Exception:  # noqa: BLE001 - not up yet
        return None
    return resp.json() if resp.status == 200 else None


def _routes_de(proc) -> bool:
    body = json.dumps({"subject_country": "DE", "data_categories": ["user.contact"]}).encode()
    resp = request(
        "POST",
        proc.base + "/route",
        headers={"Content-Type": "application/json"},
        body=body,
        deadline_s=2,
        max_bytes=1 << 16,
    )
    return resp.status == 200 and resp.json()["data_store"] == "eu-main"


@pytest.mark.integration
@pytest.mark.parametrize("mode", sorted(MALICIOUS))
def test_malformed_answers_are_reported_refusals_and_the_agent_keeps_serving(
    upstream, agent_process, mode
):
    upstream.mode = mode
    upstream.reports.clear()
    report = wait_for(
        lambda: next((r for r in upstream.reports if r.get("last_error")), None), timeout=10
    )
    assert report, agent_process.log.read_text()
    assert report["applied_version"] == 1
    assert agent_process.poll() is None, agent_process.log.read_text()
    assert _status(agent_process)["applied_version"] == 1
    assert _routes_de(agent_process)


@pytest.mark.integration
def test_redirect_to_another_origin_never_carries_the_token(upstream, agent_process):
    thief = EvilServer(lambda conn, req: conn.sendall(ok(b"{}")))
    try:
        MALICIOUS["redirect_live"] = (
            f"HTTP/1.1 302 Found\r\nLocation: {thief.url}/steal\r\n\r\n".encode()
        )
        upstream.mode = "redirect_live"
        upstream.reports.clear()
        report = wait_for(
            lambda: next((r for r in upstream.reports if r.get("last_error")), None), timeout=10
        )
        assert report["last_error"]["code"] == "redirect_refused"
        assert thief.requests == []
        assert agent_process.poll() is None
    finally:
        MALICIOUS.pop("redirect_live", None)
        thief.close()


@pytest.mark.integration
def test_dripping_control_plane_cannot_hold_a_poll(upstream, agent_process):
    upstream.mode = "drip"
    upstream.reports.clear()
    report = wait_for(
        lambda: next((r for r in upstream.reports if r.get("last_error")), None), timeout=10
    )
    assert report is not None
    # The drip would take 1000 s at this pace; the one-second deadline ends each poll.
    assert agent_process.poll() is None
    assert _routes_de(agent_process)


@pytest.mark.integration
def test_slow_push_clients_are_dropped_and_capped(agent_process):
    host, port = agent_process.base.removeprefix("http://").split(":")
    slow = []
    for _ in range(12):
        sock = socket.create_connection((host, int(port)), timeout=2)
        sock.sendall(b"POST /bundle HTTP/1.1\r\nContent-Le")  # and never more
        slow.append(sock)
    try:
        # Over the cap: the listener answers 503 at once instead of queueing.
        answers = []
        for sock in slow[-5:]:
            sock.settimeout(2)
            try:
                answers.append(sock.recv(100))
            except TimeoutError:
                answers.append(b"")
        assert any(a.startswith(b"HTTP/1.1 503") for a in answers)
        # Within the per-connection deadline every slow connection is closed by the agent.
        sock = slow[0]
        sock.settimeout(10)
        started = time.monotonic()
        while sock.recv(100):
            pass
        assert time.monotonic() - started < 3
        # And the agent serves again.
        assert wait_for(lambda: _status(agent_process), timeout=15)["applied_version"] == 1
    finally:
        for sock in slow:
            sock.close()
