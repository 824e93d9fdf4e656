"""Fixtures for the agent tests; the simulator itself is in ``agent_sim``."""

from __future__ import annotations

import pytest
import time_machine

from agents.client import Agent
from agents.config import AgentConfig
from tests.agents.agent_sim import REGION, START, TOKEN, Repository, SimulatedControlPlane


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def repo(clock):
    repo = Repository()
    repo.publish()
    return repo


@pytest.fixture
def sim(repo):
    server = SimulatedControlPlane(repo)
    yield server
    server.close()


@pytest.fixture
def make_agent(sim, repo, tmp_path):
    def factory(**overrides) -> Agent:
        values = {
            "url": sim.url,
            "token": TOKEN,
            "region": REGION,
            "root_key": repo.root_public,
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
