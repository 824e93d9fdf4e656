"""Fixtures for the agent tests: a TUF repository in memory, served over HTTP (``tuf_sim``)."""

from __future__ import annotations

import pytest

from agents.client import Agent
from agents.config import AgentConfig
from tests.agents.tuf_sim import REGION, TOKEN, TufRepo, TufServer


@pytest.fixture
def repo():
    return TufRepo()


@pytest.fixture
def sim(repo):
    server = TufServer(repo)
    yield server
    server.close()


@pytest.fixture
def trusted_root(repo, tmp_path):
    path = tmp_path / "root.json"
    path.write_bytes(repo.root_bytes)
    return str(path)


@pytest.fixture
def make_agent(sim, trusted_root, tmp_path):
    def factory(**overrides) -> Agent:
        values = {
            "url": sim.url,
            "token": TOKEN,
            "region": REGION,
            "trusted_root": trusted_root,
            "state_dir": str(tmp_path / "state"),
            "poll_min": 1.0,
            "poll_max": 2.0,
            "timeout": 5.0,
        }
        values.update(overrides)
        agent = Agent(AgentConfig(**values))
        agent.load()
        return agent

    return factory
