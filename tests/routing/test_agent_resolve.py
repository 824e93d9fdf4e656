"""A gateway gets the same answer from the control plane and from the agent in its region.

The region's real bundle (published by the control plane, routing table included) is served to
a real agent process; its ``POST /resolve`` is compared with ``GET /api/v1/routing/resolve`` for
the same questions. Both answer through ``agents.routing.resolve``; the agent adds the version
of the bundle it answered from, and its table carries no build day (``on``).
"""

import pytest

from agents import protocol
from controlplane.distribution import services as distribution
from controlplane.distribution.models import ConfigBundle
from tests.agents.evil_server import wait_for
from tests.agents.process import AgentProcess
from tests.agents.tuf_sim import REGION, TufRepo, TufServer

pytestmark = pytest.mark.integration

QUESTIONS = [
    {"country": "DE"},
    {"country": "FR", "categories": ["user.contact.email"]},
    {"country": "DE", "categories": ["user.contact.email", "user.name"]},
    {"country": "DE", "categories": ["user.contact.email", "user.health_and_medical"]},
    {"country": "GB"},
    {"country": "IN"},
    {"country": "US", "categories": ["user.contact.email"]},
]


@pytest.fixture
def agent_on_the_real_bundle(routed, bundle_keys, tmp_path):
    routed.approved_transfer()  # eu-central -> us-east, e-mail and name
    bundle = distribution.publish_region(region=routed.eu_central)
    assert bundle.region.slug == REGION and "routing" in bundle.payload["content"]
    repo = TufRepo()
    data = protocol.bundle_bytes(bundle.payload)
    repo.publish(data=data)
    sim = TufServer(repo)
    agent = AgentProcess(sim, tmp_path)
    try:
        digest = protocol.sha256_digest(data)
        assert wait_for(lambda: (agent.status() or {}).get("applied_digest") == digest), (
            agent.text()
        )
        yield agent, bundle
    finally:
        agent.stop()
        sim.close()


def _api_params(question):
    params = {"country": question["country"]}
    if question.get("categories"):
        params["category"] = question["categories"]
    return params


def test_the_agent_and_the_api_give_a_gateway_the_same_answer(
    routed, client, agent_on_the_real_bundle
):
    agent, bundle = agent_on_the_real_bundle
    client.force_login(routed.admin)  # the whole table, as every bundle carries it
    for question in QUESTIONS:
        api = client.get("/api/v1/routing/resolve", _api_params(question))
        assert api.status_code == 200, api.content
        status, answer = agent.resolve(question)
        assert status == 200, (question, answer)
        assert answer.pop("bundle_version") == bundle.version
        expected = api.json()
        assert answer.pop("on") is None and expected.pop("on")
        assert answer == expected, question


def test_the_agent_routes_germans_to_us_east_only_for_what_the_transfer_covers(
    routed, agent_on_the_real_bundle
):
    agent, _ = agent_on_the_real_bundle
    _, covered = agent.resolve({"country": "DE", "categories": ["user.contact.email"]})
    assert "us-east" in [r["region"] for r in covered["routes"]]
    _, health = agent.resolve(
        {"country": "DE", "categories": ["user.contact.email", "user.health_and_medical"]}
    )
    assert "us-east" not in [r["region"] for r in health["routes"]]
    # A key the bundle's taxonomy does not know is refused, as the API refuses it.
    status, body = agent.resolve({"country": "DE", "categories": ["user.no_such_thing"]})
    assert (status, body["field"]) == (400, "category")
    assert (
        ConfigBundle.objects.filter(region=routed.eu_central).count() == 1
    )  # asking changes nothing
