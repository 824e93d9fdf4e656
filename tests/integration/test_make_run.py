"""`make run`'s script on the embedded defaults: everything starts, the login page is served,
both demo agents apply their bundles, and Ctrl-C (SIGINT to the process group) stops it all."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent  # the virtualenv running the tests (not resolved)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except OSError:
        return 0


def _json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return {}


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    result = subprocess.run(["ps", "-o", "stat=", "-g", str(pgid)], capture_output=True, text=True)
    return any(not line.strip().startswith("Z") for line in result.stdout.splitlines())


def test_run_script_serves_the_product_and_ctrl_c_stops_everything(tmp_path):
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        # A newcomer's shell: none of the suite's own settings, no services.
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY"}
        and not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_", "ALLOWED_"))
    }
    env.update(
        {"PORT": str(port), "CONTROLPLANE_VAR_DIR": str(tmp_path / "var"), "VENV": str(VENV)}
    )
    output = open(tmp_path / "run.out", "wb")
    started = time.monotonic()
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = started + 120
        while time.monotonic() < deadline and _get(f"http://127.0.0.1:{port}/login/") != 200:
            assert process.poll() is None, (tmp_path / "run.out").read_text()
            time.sleep(0.5)
        assert _get(f"http://127.0.0.1:{port}/login/") == 200, (tmp_path / "run.out").read_text()
        served_after = time.monotonic() - started
        print(f"login page served {served_after:.1f}s after start")

        logs = tmp_path / "var" / "log"
        expected = {
            "web.log",
            "worker.log",
            "beat.log",
            "agent-eu-central.log",
            "agent-us-east.log",
        }
        assert expected <= {p.name for p in logs.iterdir()}
        while time.monotonic() < deadline:
            text = (tmp_path / "run.out").read_text()
            if "Press Ctrl-C to stop." in text:
                break
            time.sleep(0.5)
        assert "dpo-eu" in text and f"http://127.0.0.1:{port}/" in text

        # The two demo agents (listening on 8701 and 8702) receive and apply their bundles.
        for agent_port in (8701, 8702):
            applied = None
            while time.monotonic() < deadline:
                applied = _json(f"http://127.0.0.1:{agent_port}/status").get("applied_version")
                if applied:
                    break
                time.sleep(0.5)
            assert applied, f"agent on {agent_port} applied nothing"
    finally:
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGINT)
        stop_deadline = time.monotonic() + 30
        while time.monotonic() < stop_deadline and _group_alive(process.pid):
            time.sleep(0.5)
        alive = _group_alive(process.pid)
        if alive:
            os.killpg(process.pid, signal.SIGKILL)
    assert not alive, "Ctrl-C left processes running"
