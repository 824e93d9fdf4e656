"""Package-level guarantees: no Django anywhere in agents/, the CLI, push and local routing."""

from __future__ import annotations

import ast
import json
import threading
import time
from pathlib import Path

import pytest

import agents
from agents import cli, client
from agents.config import ConfigError, load_config
from agents.server import make_server
from agents.transport import request
from tests.agents.tuf_sim import REGION, TOKEN

AGENTS_DIR = Path(agents.__file__).parent


def test_nothing_under_agents_imports_django():
    modules = sorted(AGENTS_DIR.rglob("*.py"))
    assert len(modules) >= 7
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
                names = [a.value for a in node.args if isinstance(a, ast.Constant)]
            for name in names:
                assert str(name).split(".")[0] not in ("django", "rest_framework", "celery"), (
                    f"{path.relative_to(AGENTS_DIR.parent)} imports {name}"
                )


def test_config_precedence_flags_over_env_over_file(tmp_path):
    file = tmp_path / "agent.toml"
    token = tmp_path / "token"
    token.write_text("from-file-token\n")
    file.write_text(
        f'url = "http://file"\nregion = "eu-central"\npoll_min = 3\ntoken_file = "{token}"\n'
    )
    env = {"SOVEREIGN_AGENT_URL": "http://env", "SOVEREIGN_AGENT_POLL_MAX": "9"}
    config = load_config(flags={"url": "http://flag"}, environ=env, config_file=str(file))
    assert (config.url, config.poll_min, config.poll_max) == ("http://flag", 3.0, 9.0)
    assert config.token == "from-file-token"
    config = load_config(environ=env, config_file=str(file))
    assert config.url == "http://env"
    with pytest.raises(ConfigError, match="unknown configuration key"):
        file.write_text('colour = "blue"\n')
        load_config(environ={}, config_file=str(file))
    with pytest.raises(ConfigError):
        load_config(environ={"SOVEREIGN_AGENT_POLL_MIN": "soon"})
    with pytest.raises(ConfigError):
        load_config(environ={"SOVEREIGN_AGENT_POLL_MIN": "5", "SOVEREIGN_AGENT_POLL_MAX": "1"})


def test_cli_run_once_status_and_verify(sim, repo, trusted_root, tmp_path, capsys):
    common = ["--region", REGION, "--trusted-root", trusted_root, "--state-dir", str(tmp_path)]
    rc = cli.main(["run", "--once", "--url", sim.url, "--token", TOKEN, *common])
    assert rc == cli.EXIT_OK
    assert json.loads(capsys.readouterr().out)["applied_version"] == 1
    assert sim.reports[-1]["applied_version"] == 1
    assert sim.reports[-1]["last_refresh_ok"] is True and sim.reports[-1]["expires"]
    assert cli.main(["status", *common]) == cli.EXIT_OK
    status = json.loads(capsys.readouterr().out)
    assert status["verified"] and status["state"]["version"] == 1
    good = tmp_path / "bundle.json"
    assert cli.main(["verify", str(good), *common]) == cli.EXIT_OK
    assert json.loads(capsys.readouterr().out)["version"] == 1
    forged = tmp_path / "forged.json"
    forged.write_bytes(repo.bundle(version=9))
    assert cli.main(["verify", str(forged), *common]) == cli.EXIT_REFUSED
    assert json.loads(capsys.readouterr().out)["code"] == "hash_mismatch"
    assert cli.main(["verify", str(good)]) == cli.EXIT_CONFIG


def _post(url, body: bytes):
    resp = request("POST", url, body=body, deadline_s=5, max_bytes=1 << 16)
    return resp.status, resp.json()


@pytest.fixture
def listening(make_agent):
    agent = make_agent()
    server = make_server(agent, ("127.0.0.1", 0))
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    yield agent, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_push_is_only_a_refresh_signal(listening, repo):
    agent, base = listening
    # Whatever the body says, nothing is applied from it: it only wakes the refresh loop.
    status, body = _post(base + "/refresh", repo.bundle(version=99))
    assert status == 202 and agent.wake.is_set()
    assert agent.bundle is None
    agent.wake.clear()
    status, _ = _post(base + "/bundle", b"{}")  # the old path is a signal too
    assert status == 202 and agent.wake.is_set()  # a second push within a second is not lost
    assert agent.signal() is False  # signals coalesce into the one pending wake-up


def test_pushes_coalesce_and_refreshes_stay_at_most_one_per_second(make_agent):
    """A push right after another must still be acted on (it may announce the newer change),
    but a flood of pushes never makes more than one refresh a second."""
    agent = make_agent()
    refreshes = []
    agent.poll_once = lambda: refreshes.append(time.monotonic()) or client.PollResult("unchanged")
    agent.report_status = lambda: True
    stop = threading.Event()
    loop = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    loop.start()
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:
        agent.signal()
        time.sleep(0.01)
    stop.set()
    agent.wake.set()
    loop.join(5)
    assert 2 <= len(refreshes) <= 4  # the start, then about one per second, never 250
    gaps = [b - a for a, b in zip(refreshes, refreshes[1:], strict=False)]
    assert all(gap >= client.MIN_SIGNAL_INTERVAL - 0.01 for gap in gaps)


def test_local_route_endpoint(listening, repo):
    agent, base = listening
    meta = json.dumps({"subject_country": "DE"}).encode()
    status, body = _post(base + "/route", meta)
    assert (status, body["code"]) == (403, "no_bundle")
    assert agent.poll_once().outcome == "applied"
    status, body = _post(base + "/route", meta)
    assert status == 200 and body["data_store"] == "eu-main"
    status, body = _post(base + "/route", json.dumps({"subject_country": "US"}).encode())
    assert (status, body["code"]) == (403, "home_elsewhere")
    status, body = _post(base + "/route", b'{"name": "Ada"}')
    assert (status, body["code"]) == (400, "malformed")
