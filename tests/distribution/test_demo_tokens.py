"""The demo agents' tokens are this installation's own, never constants in the source."""

import stat
from pathlib import Path

import pytest

from controlplane.audit.models import AuditEvent
from controlplane.distribution import demo, services
from regions.agents import hash_token
from regions.models import Agent

pytestmark = pytest.mark.django_db

SOURCES = [Path(demo.__file__), Path(demo.__file__).parents[2] / "scripts" / "run.sh"]


@pytest.fixture
def var(settings, tmp_path, estate, bundle_keys):
    settings.VAR_DIR = tmp_path / "var"
    settings.DEMO_AGENT_PORTS = [18701, 18702]
    return settings.VAR_DIR


def _tokens(var):
    return {path.stem: path.read_text().strip() for path in (var / "agents").glob("*.token")}


def test_each_installation_makes_its_own_tokens_and_keeps_them(var):
    demo.seed()
    first = _tokens(var)
    assert set(first) == {"eu-central", "us-east"}
    for slug, token in first.items():
        agent = Agent.objects.get(region__slug=slug)
        assert agent.token_hash == hash_token(token) and token not in agent.token_hash
        assert services.authenticate_agent(token).region_slug == slug
        mode = stat.S_IMODE((var / "agents" / f"{slug}.token").stat().st_mode)
        assert mode == 0o600, oct(mode)
        assert all(token not in source.read_text() for source in SOURCES)
    demo.seed()  # make run again: same tokens, nothing rotated
    assert _tokens(var) == first
    assert not AuditEvent.objects.filter(action="agent.token_rotated").exists()


def test_a_lost_token_file_gets_a_new_token_and_the_old_one_stops_working(var):
    demo.seed()
    old = _tokens(var)["eu-central"]
    (var / "agents" / "eu-central.token").unlink()
    demo.seed()
    new = _tokens(var)["eu-central"]
    assert new != old and _tokens(var)["us-east"]
    assert services.authenticate_agent(old) is None
    assert services.authenticate_agent(new).region_slug == "eu-central"
    assert AuditEvent.objects.filter(action="agent.token_rotated").count() == 1


def test_no_demo_token_constant_is_left_in_the_source():
    for source in SOURCES:
        assert "sva_demo" not in source.read_text(), source
