"""A real agent process (``python -m agents.cli run``) against a ``TufServer``, for the tests
that exercise the agent as it runs in a region: its listener, its refusals, its state."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from agents.transport import request
from tests.agents.tuf_sim import REGION, TOKEN, TufServer

ROOT = Path(__file__).resolve().parents[2]
ROUTED = {"subject_country": "DE", "data_categories": ["user.contact"]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AgentProcess:
    def __init__(self, sim: TufServer, tmp_path: Path, *, state="state", url=None):
        self.sim, self.port = sim, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        root = tmp_path / "root.json"
        if not root.exists():
            root.write_bytes(sim.repo.root_bytes)
        self.env = {
            **os.environ,
            "SOVEREIGN_AGENT_URL": url or sim.url,
            "SOVEREIGN_AGENT_TOKEN": TOKEN,
            "SOVEREIGN_AGENT_REGION": REGION,
            "SOVEREIGN_AGENT_TRUSTED_ROOT": str(root),
            "SOVEREIGN_AGENT_STATE_DIR": str(tmp_path / state),
            "SOVEREIGN_AGENT_POLL_MIN": "0.1",
            "SOVEREIGN_AGENT_POLL_MAX": "0.2",
            "SOVEREIGN_AGENT_BACKOFF_MAX": "0.3",
            "SOVEREIGN_AGENT_TIMEOUT": "1",
            "SOVEREIGN_AGENT_LISTEN": f"127.0.0.1:{self.port}",
            "SOVEREIGN_AGENT_LISTEN_DEADLINE": "1.5",
            "SOVEREIGN_AGENT_LISTEN_CONNECTIONS": "8",
        }
        self.log_path = tmp_path / f"agent-{self.port}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agents.cli", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
        )

    def status(self) -> dict | None:
        try:
            resp = request("GET", self.base + "/status", deadline_s=2, max_bytes=1 << 16)
        except Exception:  # noqa: BLE001 - not listening yet
            return None
        return resp.json() if resp.status == 200 else None

    def route(self, metadata=None):
        body = json.dumps(metadata or ROUTED).encode()
        resp = request("POST", self.base + "/route", body=body, deadline_s=2, max_bytes=1 << 16)
        return resp.status, resp.json()

    def resolve(self, question=None, *, raw: bytes | None = None):
        body = raw if raw is not None else json.dumps(question).encode()
        resp = request("POST", self.base + "/resolve", body=body, deadline_s=2, max_bytes=1 << 20)
        return resp.status, resp.json()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
