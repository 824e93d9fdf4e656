"""Demo data for `manage.py seed_demo`: the TUF repository and its keys, two enrolled agents, first bundles.

Each installation gets its own random agent tokens: made at enrolment, stored hashed like every
agent token, and written (owner-only) to ``<var>/agents/<region>.token`` for `make run` to start
the agents with. A later seed keeps a token that still opens its agent, and rotates one that
does not (the file was lost, or the database is another installation's).
"""

import os
from pathlib import Path

from django.conf import settings

from controlplane.distribution import conf, services
from regions.agents import hash_token
from regions.models import Agent, Region

DEMO_AGENTS = [
    # region, agent name (listen ports come from settings.DEMO_AGENT_PORTS)
    ("eu-central", "eu-central-agent-1"),
    ("us-east", "us-east-agent-1"),
]


def agent_dir():
    return settings.VAR_DIR / "agents"


def seed() -> None:
    services.repository_init()
    trusted_root = conf.trusted_root_file()
    out = agent_dir()
    out.mkdir(parents=True, exist_ok=True)
    ports = settings.DEMO_AGENT_PORTS
    if len(ports) < len(DEMO_AGENTS):
        raise ValueError(
            f"DEMO_AGENT_PORTS names {len(ports)} ports; the demo has {len(DEMO_AGENTS)} agents."
        )
    for (slug, name), port in zip(DEMO_AGENTS, ports, strict=False):
        region = Region.objects.filter(slug=slug).first()
        if region is None:
            continue
        callback_url = f"http://127.0.0.1:{port}"
        token_file = out / f"{slug}.token"
        agent = Agent.objects.filter(region=region, name=name).first()
        if agent is None:
            agent, token = services.agent_enroll(
                region=region, name=name, callback_url=callback_url, poll_interval=10
            )
        else:
            if agent.callback_url != callback_url:  # this run listens elsewhere (audited)
                agent.callback_url = callback_url
                services.agent_update(agent=agent, by=None)
            token = _token_that_opens(agent, token_file)
            if token is None:
                if agent.revoked_at is not None:  # revoked on purpose: not brought back
                    for stale in (token_file, out / f"{slug}.toml"):
                        stale.unlink(missing_ok=True)
                    continue
                token = services.agent_rotate_token(agent=agent, by=None)  # audited
        _write_secret(token_file, token + "\n")
        (out / f"{slug}.toml").write_text(
            "\n".join(
                [
                    f'url = "{settings.DEMO_CONTROLPLANE_URL}"',
                    f'region = "{slug}"',
                    f'token_file = "{out / (slug + ".token")}"',
                    f'trusted_root = "{trusted_root}"',
                    f'state_dir = "{settings.VAR_DIR / "agent-state" / slug}"',
                    "poll_min = 5",
                    "poll_max = 10",
                    f'listen = "127.0.0.1:{port}"',
                    "",
                ]
            )
        )
    for region in Region.objects.all():
        services.publish_region(region=region, reason="demo seed")


def _token_that_opens(agent, token_file: Path) -> str | None:
    try:
        token = token_file.read_text().strip()
    except FileNotFoundError:
        return None
    return token if token and hash_token(token) == agent.token_hash else None


def _write_secret(path: Path, text: str) -> None:
    """Readable by this user only, from the first byte."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)  # a file that existed keeps its mode through O_TRUNC
