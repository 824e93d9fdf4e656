"""``POST /resolve``: a gateway inside the region asks the agent where a user may be served.

A real agent process (``python -m agents.cli run``) against a TUF server whose bundle carries
a routing table. The answer is ``agents.routing.resolve`` over the applied bundle's table; bad
questions are 400s naming the field; once the trusted metadata expires the agent answers
nothing (403 ``expired``), as ``/route`` does.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from agents import protocol
from agents.routing import resolve
from tests.agents.evil_server import wait_for
from tests.agents.process import AgentProcess
from tests.agents.tuf_sim import REGION, TufRepo, TufServer, sample_content

pytestmark = pytest.mark.integration


def _route(endpoint, region, country, jurisdiction, basis, **extra):
    return {
        "endpoint": endpoint,
        "region": region,
        "country": country,
        "jurisdiction": jurisdiction,
        "url": f"https://{region}.example/infer",
        "basis": basis,
        "code": basis.upper(),
        "reason": f"{basis} reason",
        "mechanism": extra.pop("mechanism", None),
        "transfer": extra.pop("transfer", None),
        "priority": 100,
        "latency_hint_ms": None,
        "log_store": "events",
        "models": extra.pop("models", []),
        **extra,
    }


TABLE = {
    "format": 1,
    "countries": {"DE": "EEA", "FR": "EEA", "IN": "IN", "US": "US"},
    "jurisdictions": {
        "EEA": {
            "name": "European Economic Area",
            "gap": False,
            "routes": [
                _route(
                    "eu-west/scoring",
                    "eu-west",
                    "FR",
                    "EEA",
                    "same_jurisdiction",
                    models=[{"name": "fraud-scoring", "version": "2"}],
                ),
                _route(
                    "eu-central/scoring",
                    "eu-central",
                    "DE",
                    "EEA",
                    "same_jurisdiction",
                    models=[{"name": "fraud-scoring", "version": "2"}],
                ),
                _route(
                    "us-east/scoring",
                    "us-east",
                    "US",
                    "US",
                    "transfer",
                    transfer="TR-7",
                    covers=["user.contact"],
                ),
            ],
        },
        "IN": {"name": "India", "gap": True, "routes": []},
        "US": {"name": "United States", "gap": True, "routes": []},
    },
    "unroutable": [],
}
CATEGORIES = ["user", "user.contact", "user.contact.email", "user.health"]


def content_with(table):
    content = sample_content(REGION)
    content["categories"] = CATEGORIES
    if table is not None:
        content["routing"] = table
    return content


def serve(table=TABLE, *, timestamp_ttl=timedelta(hours=1)):
    repo = TufRepo(timestamp_ttl=timestamp_ttl)
    repo.publish(data=repo.bundle(content=content_with(table)))  # version 2: ours is the newest
    return repo


@pytest.fixture
def run_agent(tmp_path):
    started: list = []

    def launch(repo) -> AgentProcess:
        sim = TufServer(repo)
        agent = AgentProcess(sim, tmp_path)
        started.append((agent, sim))
        digest = protocol.sha256_digest(repo.bundles[REGION][-1])
        applied = wait_for(lambda: (agent.status() or {}).get("applied_digest") == digest)
        assert applied, agent.text()
        return agent

    yield launch
    for agent, sim in started:
        agent.stop()
        sim.close()


def test_the_agent_answers_as_the_shared_resolve_function(run_agent):
    agent = run_agent(serve())
    status, answer = agent.resolve({"country": "DE"})
    assert status == 200, answer
    # The user's own country first, the legal order otherwise kept.
    assert [r["endpoint"] for r in answer["routes"]] == [
        "eu-central/scoring",
        "eu-west/scoring",
        "us-east/scoring",
    ]
    assert answer["bundle_version"] == 2 and answer["gap"] is False
    expected = resolve(TABLE, "DE")
    assert {k: v for k, v in answer.items() if k != "bundle_version"} == expected


def test_a_category_the_transfer_does_not_cover_is_not_routed_there(run_agent):
    agent = run_agent(serve())
    status, covered = agent.resolve({"country": "DE", "categories": ["user.contact.email"]})
    assert status == 200 and "us-east" in [r["region"] for r in covered["routes"]]
    status, health = agent.resolve(
        {"country": "DE", "categories": ["user.contact.email", "user.health"]}
    )
    assert status == 200
    assert "us-east" not in [r["region"] for r in health["routes"]]
    assert health["not_routed"] == [
        {"endpoint": "us-east/scoring", "reason": "TR-7 does not cover user.health."}
    ]
    status, model = agent.resolve({"country": "FR", "model": "fraud-scoring"})
    assert [r["endpoint"] for r in model["routes"]] == ["eu-west/scoring", "eu-central/scoring"]


def test_a_jurisdiction_without_a_lawful_endpoint_is_a_gap_not_an_error(run_agent):
    agent = run_agent(serve())
    status, answer = agent.resolve({"country": "IN"})
    assert status == 200
    assert answer["gap"] is True and answer["routes"] == [] and answer["jurisdiction"] == "IN"


@pytest.mark.parametrize(
    "question, field",
    [
        ({}, "country"),
        ({"country": "de"}, "country"),
        ({"country": "DE\u200b"}, "country"),
        ({"country": "DE\n"}, "country"),
        ({"country": "XX"}, "country"),
        ({"country": "DE", "categories": "user.contact"}, None),  # a string is one key: fine
        ({"country": "DE", "categories": ["user.no_such_thing"]}, "category"),
        ({"country": "DE", "categories": ["User.Contact"]}, "category"),
        ({"country": "DE", "categories": [1]}, "category"),
        ({"country": "DE", "categories": {"a": 1}}, "category"),
        ({"country": "DE", "categories": ["user.contact\n"]}, "category"),
        ({"country": "DE", "model": "x" * 200}, "model"),
        ({"country": "DE", "model": "fraud-scoring\n"}, "model"),
    ],
)
def test_bad_questions_are_400s_naming_the_field(run_agent, question, field):
    agent = run_agent(serve())
    status, body = agent.resolve(question)
    if field is None:
        assert status == 200, body
        return
    assert (status, body["code"], body["field"]) == (400, "invalid", field), body
    assert agent.alive()


@pytest.mark.parametrize(
    "raw, status, code",
    [
        (b'{"country": "DE", "record": {"name": "Ada"}}', 400, "malformed"),  # unknown field
        (b'["DE"]', 400, "malformed"),
        (b'{"country": NaN}', 400, "malformed"),
        (b'{"country": "DE"', 400, "malformed"),
        (b'{"country": "\\ud800"}', 400, "malformed"),
        (json.dumps({"country": "DE", "model": "m" * 9000}).encode(), 413, "too_large"),
    ],
)
def test_bodies_that_are_not_a_strict_json_question_are_refused(run_agent, raw, status, code):
    agent = run_agent(serve())
    answered, body = agent.resolve(raw=raw)
    assert (answered, body["code"]) == (status, code), body
    assert agent.resolve({"country": "DE"})[0] == 200


def test_a_bundle_without_a_routing_table_answers_nothing(run_agent):
    agent = run_agent(serve(table=None))
    status, body = agent.resolve({"country": "DE"})
    assert (status, body["code"]) == (403, "no_routing_table"), body


def test_once_trust_expires_the_agent_refuses_to_resolve_and_says_why(run_agent):
    repo = serve()
    repo.new_timestamp(expires=protocol.utcnow() + timedelta(seconds=4))
    agent = run_agent(repo)
    assert agent.resolve({"country": "DE"})[0] == 200
    agent.sim.override["timestamp.json"] = repo.timestamp_bytes  # frozen: never a new one
    assert wait_for(lambda: (agent.status() or {}).get("expired") is True, timeout=15)
    status, body = agent.resolve({"country": "DE"})
    assert (status, body["code"]) == (403, "expired"), body
    assert "trusted metadata expired at" in body["message"]
    # /route refuses alike: the same rule, one place.
    assert agent.route()[1]["code"] == "expired"
