"""Demo data for `manage.py seed_demo`: the TUF repository and its keys, two enrolled agents, first bundles.

The agents' demo tokens are fixed (so `make run` can start them) and written with a config
file per agent under ``var/agents/``. They are for the demo only.
"""

from django.conf import settings
from django.db import transaction

from controlplane.audit.actors import Actor
from controlplane.audit.services import record_event
from controlplane.distribution import conf, services
from regions.agents import hash_token
from regions.models import Agent, Region

DEMO_AGENTS = [
    # region, agent name, demo token (listen ports come from settings.DEMO_AGENT_PORTS)
    ("eu-central", "eu-central-agent-1", "sva_demo-eu-central-token-for-local-runs-only"),
    ("us-east", "us-east-agent-1", "sva_demo-us-east-token-for-local-runs-only"),
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
    for (slug, name, token), port in zip(DEMO_AGENTS, ports, strict=False):
        region = Region.objects.filter(slug=slug).first()
        if region is None:
            continue
        callback_url = f"http://127.0.0.1:{port}"
        agent = Agent.objects.filter(region=region, name=name).first()
        if agent is None:
            agent, _ = services.agent_enroll(
                region=region, name=name, callback_url=callback_url, poll_interval=10
            )
        elif agent.callback_url != callback_url:  # this run listens elsewhere (audited)
            agent.callback_url = callback_url
            services.agent_update(agent=agent, by=None)
        if agent.token_hash != hash_token(token) and agent.revoked_at is None:
            with transaction.atomic():
                Agent.objects.filter(pk=agent.pk).update(
                    token_hash=hash_token(token), token_hint=token[:10]
                )
                record_event(
                    actor=Actor.system("seed_demo"),
                    action="agent.token_set",
                    obj=agent,
                    data={"why": "fixed demo token so make run can start the agent"},
                )
        (out / f"{slug}.token").write_text(token + "\n")
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
