"""No password or token reaches a log: token issuance (right, wrong, locked out), a real agent
polling and reporting over HTTP, an agent with a wrong or rotated token (issue 20.4)."""

import logging

import pytest

from agents.client import Agent
from agents.config import AgentConfig
from controlplane.distribution import repository, services

pytestmark = [pytest.mark.django_db(transaction=True)]

WRONG_PASSWORD = "Wr0ng-but-someone's-real-password"


def _everything_logged(records) -> str:
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        parts.append(repr(getattr(record, "request", "")))
    return "\n".join(parts)


def test_no_password_or_token_is_logged(
    estate, tuf_repository, live_server, settings, tmp_path, client, caplog
):
    settings.BUNDLE_PUSH_ENABLED = False
    caplog.set_level(logging.DEBUG)
    secrets = [estate.password, WRONG_PASSWORD]

    # People: a token issued, a wrong password, a lockout.
    issued = client.post(
        "/api/v1/auth/token/", {"username": "dpo-eu", "password": estate.password}
    ).json()["token"]
    secrets.append(issued)
    assert client.get("/api/v1/regions/", HTTP_AUTHORIZATION=f"Token {issued}").status_code == 200
    assert client.get("/api/v1/regions/", HTTP_AUTHORIZATION=f"Token {issued}x").status_code in (
        401,
        403,
    )
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post("/api/v1/auth/token/", {"username": "dpo-uk", "password": WRONG_PASSWORD})
        client.post("/login/", {"username": "dpo-us", "password": WRONG_PASSWORD})

    # An agent: enrolled, polling and reporting for real, then with a rotated (dead) token.
    root_file = tmp_path / "root-v1.json"
    root_file.write_bytes(repository.load("root", 1).to_bytes())
    agent_row, token = services.agent_enroll(region=estate.eu_central, name="eu-1")
    secrets.append(token)
    services.publish_region(region=estate.eu_central)

    def agent(with_token, name):
        regional = Agent(
            AgentConfig(
                url=live_server.url,
                token=with_token,
                region="eu-central",
                trusted_root=str(root_file),
                state_dir=str(tmp_path / name),
                timeout=10,
            )
        )
        regional.load()
        return regional

    polling = agent(token, "a")
    assert polling.poll_once().outcome == "applied"
    assert polling.report_status()
    fresh = services.agent_rotate_token(agent=agent_row)
    secrets.append(fresh)
    assert polling.poll_once().outcome != "applied"  # the old token is refused, and says so
    assert agent(fresh, "b").poll_once().outcome == "applied"
    wrong = "sva_" + "x" * 43
    secrets.append(wrong)
    agent(wrong, "c").poll_once()

    logged = _everything_logged(caplog.records)
    assert caplog.records, "nothing was logged: the test would prove nothing"
    for secret in secrets:
        assert secret not in logged
        assert secret[4:20] not in logged  # nor a telling piece of it
