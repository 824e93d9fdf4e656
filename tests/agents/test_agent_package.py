"""Package-level guarantees: no Django anywhere in agents/, the CLI, push and local routing."""

from __future__ import annotations

import ast
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import agents
from agents import cli, protocol
from agents.config import ConfigError, load_config
from agents.server import make_server
from tests.agents.agent_sim import REGION

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


def test_cli_verify_accepts_good_and_refuses_foreign(repo, tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_bytes(protocol.canonical_json(repo.latest))
    root = ["--root-key", repo.root_public]
    assert cli.main(["verify", str(good), *root, "--region", REGION]) == cli.EXIT_OK
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] and out["version"] == 1
    assert cli.main(["verify", str(good), *root, "--region", "us-east"]) == cli.EXIT_REFUSED
    assert json.loads(capsys.readouterr().out)["code"] == "wrong_region"
    other_root = protocol.public_key_text(protocol.generate_private_key())
    assert cli.main(["verify", str(good), "--root-key", other_root]) == cli.EXIT_REFUSED
    assert json.loads(capsys.readouterr().out)["code"] == "key_not_endorsed"
    assert cli.main(["verify", str(good)]) == cli.EXIT_CONFIG


def test_cli_run_once_and_status(sim, repo, tmp_path, capsys):
    common = ["--region", REGION, "--root-key", repo.root_public, "--state-dir", str(tmp_path)]
    rc = cli.main(["run", "--once", "--url", sim.url, "--token", "agent-token-eu", *common])
    assert rc == cli.EXIT_OK
    assert json.loads(capsys.readouterr().out)["applied_version"] == 1
    assert sim.reports[-1]["applied_version"] == 1
    assert cli.main(["status", *common]) == cli.EXIT_OK
    status = json.loads(capsys.readouterr().out)
    assert status["verified"] and status["state"]["version"] == 1


def _post(url, body: bytes, headers=None):
    req = urllib.request.Request(url, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def listening(make_agent):
    agent = make_agent()
    server = make_server(agent, ("127.0.0.1", 0))
    import threading

    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    yield agent, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pushed_bundle_is_verified_and_applied(listening, repo):
    agent, base = listening
    env = repo.latest
    headers = {protocol.FRESHNESS_HEADER: repo.freshness_for(env)}
    status, body = _post(base + "/bundle", protocol.canonical_json(env), headers)
    assert status == 200 and body["applied_version"] == 1
    assert agent.applied.version == 1
    # A push of a foreign bundle is refused with the reason; the applied one stays.
    foreign = repo.build(version=5, region="us-east")
    status, body = _post(base + "/bundle", protocol.canonical_json(foreign), headers)
    assert (status, body["code"]) == (409, "wrong_region")
    assert agent.applied.version == 1


def test_local_route_endpoint(listening, repo):
    agent, base = listening
    meta = json.dumps({"subject_country": "DE"}).encode()
    status, body = _post(base + "/route", meta)
    assert (status, body["code"]) == (403, "no_bundle")
    agent.accept(
        protocol.canonical_json(repo.latest), repo.freshness_for(repo.latest), source="test"
    )
    status, body = _post(base + "/route", meta)
    assert status == 200 and body["data_store"] == "eu-main"
    status, body = _post(base + "/route", json.dumps({"subject_country": "US"}).encode())
    assert (status, body["code"]) == (403, "home_elsewhere")
    status, body = _post(base + "/route", b'{"name": "Ada"}')
    assert (status, body["code"]) == (400, "malformed")
