"""Key rotation on the real repository, against a real agent (TUF client) over HTTP.

For each kind of key (a region's, the online timestamp/snapshot/targets keys, the root), an
agent that slept through several rotations catches up on its next refresh, and an agent that
starts with no state from the first root walks the chain to the same place. That it never
accepts a revoked key is shown against a malicious server in tests/agents/test_attacks.py.
"""

import io
import json

import pytest
from django.core.management import call_command
from tuf.api.metadata import Metadata

from agents.client import Agent
from agents.config import AgentConfig
from controlplane.distribution import repository, services
from regions.models import ResidencyRule
from regions.services import estate_object_save

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(estate, tuf_repository, live_server, settings, tmp_path):
    settings.BUNDLE_PUSH_ENABLED = False
    root_file = tmp_path / "root-v1.json"
    root_file.write_bytes(repository.load("root", 1).to_bytes())
    agent_row, token = services.agent_enroll(region=estate.eu_central, name="eu-1")
    services.publish_region(region=estate.eu_central)

    def make_agent(name="agent"):
        agent = Agent(
            AgentConfig(
                url=live_server.url,
                token=token,
                region="eu-central",
                trusted_root=str(root_file),
                state_dir=str(tmp_path / name),
                timeout=10,
            )
        )
        agent.load()
        return agent

    return type("World", (), {"estate": estate, "make_agent": staticmethod(make_agent)})


def change(world, tag):
    rule = ResidencyRule.objects.filter(region=world.estate.eu_central).order_by("position").last()
    rule.contract_tag = tag
    estate_object_save(instance=rule, by=world.estate.admin)


def rotate(*args):
    out = io.StringIO()
    call_command("bundle_keys", *args, stdout=out)
    return json.loads(out.getvalue().splitlines()[0])


def _assert_catches_up(world, sleeper, expected_version):
    result = sleeper.poll_once()
    assert result.outcome == "applied", result
    assert sleeper.bundle.version == expected_version
    fresh = world.make_agent("fresh")
    assert fresh.poll_once().outcome == "applied"
    assert fresh.bundle.digest == sleeper.bundle.digest
    assert not sleeper.expired and sleeper.last_error is None


def test_agent_asleep_through_region_key_rotations_catches_up(world):
    sleeper = world.make_agent()
    assert sleeper.poll_once().outcome == "applied"
    keyids = []
    for tag in ("r1", "r2"):
        result = rotate("rotate", "--role", "region", "--region", "eu-central")
        keyids += result["revoked_keyids"]
        change(world, tag)
    rotate("revoke", "--role", "region", "--region", "eu-central")
    delegation = repository.load("targets").signed.delegations.roles["eu-central"]
    assert not set(keyids) & set(delegation.keyids)
    _assert_catches_up(world, sleeper, expected_version=3)


def test_agent_asleep_through_online_key_rotations_catches_up(world):
    sleeper = world.make_agent()
    assert sleeper.poll_once().outcome == "applied"
    revoked = []
    for role in ("timestamp", "snapshot", "targets", "timestamp"):
        revoked += rotate("rotate", "--role", role)["revoked_keyids"]
    change(world, "after-online-rotations")
    root = repository.load("root")
    assert root.signed.version == 5
    assert not set(revoked) & set(root.signed.keys)
    _assert_catches_up(world, sleeper, expected_version=2)
    # The agent now trusts the newest root: what the old keys signed no longer verifies.
    stored = Metadata.from_file(str(sleeper.store.metadata_dir / "root.json"))
    assert stored.signed.version == 5


def test_agent_asleep_through_root_rotations_catches_up(world):
    sleeper = world.make_agent()
    assert sleeper.poll_once().outcome == "applied"
    first_root_keys = set(repository.load("root").signed.roles["root"].keyids)
    rotate("rotate", "--role", "root")
    rotate("revoke", "--role", "root")
    change(world, "after-root-rotations")
    root = repository.load("root")
    assert root.signed.version == 3
    assert not first_root_keys & set(root.signed.roles["root"].keyids)
    _assert_catches_up(world, sleeper, expected_version=2)
