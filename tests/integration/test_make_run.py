"""`make run`'s script on the embedded defaults: everything starts, the login page is served,
both demo agents apply their bundles, and Ctrl-C (SIGINT to the process group) stops it all."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
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


def _newcomer_env(tmp_path, port, **extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        # A newcomer's shell: none of the suite's own settings, no services.
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY", "AUDIT_CHAIN_KEY"}
        and not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "CSRF_", "ALLOWED_", "DEMO_"))
    }
    env.update(
        {"PORT": str(port), "CONTROLPLANE_VAR_DIR": str(tmp_path / "var"), "VENV": str(VENV)}
    )
    env.update(extra)
    return env


def _agent_configs(var: Path) -> dict:
    configs = {}
    for path in sorted((var / "agents").glob("*.toml")):
        configs[path.stem] = tomllib.loads(path.read_text())
    return configs


@pytest.mark.parametrize("variable", ["PORT", "DEMO_AGENT_PORTS"])
def test_a_busy_port_gets_a_message_naming_it_and_the_variable_to_change(tmp_path, variable):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        if variable == "PORT":
            env = _newcomer_env(tmp_path, busy)
        else:
            env = _newcomer_env(tmp_path, _free_port(), DEMO_AGENT_PORTS=f"{_free_port()},{busy}")
        result = subprocess.run(
            ["bash", "scripts/run.sh"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"Port {busy}" in result.stderr and variable in result.stderr, result.stderr
    assert not (tmp_path / "var" / "log" / "web.log").exists()  # nothing was started


def test_run_script_serves_the_product_and_ctrl_c_stops_everything(tmp_path):
    port = _free_port()
    env = _newcomer_env(tmp_path, port)
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

        # The demo agents talk to this run only: its URL, and free ports of their own (never the
        # fixed 8701/8702 two copies would share), which is where this run pushes to them.
        configs = _agent_configs(tmp_path / "var")
        assert set(configs) == {"eu-central", "us-east"}
        agent_ports = []
        for config in configs.values():
            assert config["url"] == f"http://127.0.0.1:{port}"
            agent_ports.append(int(config["listen"].rpartition(":")[2]))
        assert len(set(agent_ports)) == 2 and not set(agent_ports) & {8701, 8702, port}
        for agent_port in agent_ports:
            applied = None
            while time.monotonic() < deadline:
                applied = _json(f"http://127.0.0.1:{agent_port}/status").get("applied_version")
                if applied:
                    break
                time.sleep(0.5)
            assert applied, f"agent on {agent_port} applied nothing"

        # This checkout's own secrets, owner-only, none of them in the source.
        var = tmp_path / "var"
        for secret in ["secret_key", "audit_chain_key", "agents/eu-central.token"]:
            assert (var / secret).stat().st_mode & 0o077 == 0, secret
        token = (var / "agents" / "eu-central.token").read_text().strip()
        assert token.startswith("sva_") and token not in (ROOT / "controlplane" / "distribution" / "demo.py").read_text()
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
