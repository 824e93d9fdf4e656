"""A real agent process feeding a live server: observe -> aggregate -> suppress -> spool -> store.

The agent starts while the control plane is unreachable (wrong port), records observations,
spools the closed period to disk and is stopped; started again against the live server, it
sends the spooled batch, which lands once, with the small reason cells suppressed.
"""

import json
import time
import urllib.request

import pytest

from controlplane.metrics.models import MetricBatch, MetricPoint
from tests.integration.test_bundle_delivery import _free_port, _wait_for, tuf_keys, world  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _post(port, body):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/observe",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, json.loads(response.read())


def _get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return json.loads(response.read())
    except OSError:
        return None


def start_agent(the_world, token, *, url, port):
    import sys

    args = [sys.executable, "-m", "agents.cli", "run", "--url", url, "--token", token]
    args += ["--region", "eu-central", "--trusted-root", the_world.root]
    args += [
        "--state-dir",
        str(the_world.tmp / "agent-state"),
        "--poll-min",
        "1",
        "--poll-max",
        "2",
    ]
    args += ["--listen", f"127.0.0.1:{port}"]
    the_world.procs.env["SOVEREIGN_AGENT_METRICS_PERIOD"] = "60"
    the_world.procs.start("agent", args)


@pytest.fixture
def seeded(db):
    from controlplane.metrics.services import seed_catalogue

    seed_catalogue()


def test_agent_spools_through_an_outage_and_a_restart_then_the_server_stores_once(seeded, world):  # noqa: F811
    from controlplane.distribution import services

    _, token = services.agent_enroll(region=world.estate.eu_central, name="eu-e2e")
    services.publish_region(region=world.estate.eu_central, reason="catalogue")
    spool = world.tmp / "agent-state" / "metrics-spool"

    # 1. The agent fetches its bundle (catalogue, k=10) from the live server, then loses it.
    port = _free_port()
    start_agent(world, token, url=world.url, port=port)
    _wait_for(
        lambda: (_get(port, "/status") or {}).get("metrics", {}).get("catalogue_size"),
        timeout=30,
        what="the agent's catalogue",
        procs=world.procs,
    )
    world.procs.stop("agent")
    dead = f"http://127.0.0.1:{_free_port()}"
    start_agent(world, token, url=dead, port=port)  # the control plane is unreachable now
    _wait_for(
        lambda: (_get(port, "/status") or {}).get("metrics", {}).get("catalogue_size"),
        timeout=30,
        what="the agent's catalogue from its state directory",
        procs=world.procs,
    )

    # 2. Services in the region observe records, in a period that has already ended.
    at = time.time() - 120
    observations = [{"name": "ingestion.records_routed", "value": 1, "at": at}] * 30
    observations += [
        {
            "name": "ingestion.records_refused",
            "value": 1,
            "dimensions": {"reason": "no_rule"},
            "at": at,
        }
    ] * 12
    observations += [
        {
            "name": "ingestion.records_refused",
            "value": 1,
            "dimensions": {"reason": "home_elsewhere"},
            "at": at,
        }
    ] * 3
    status, answer = _post(port, {"observations": observations})
    assert (status, answer["recorded"]) == (202, 45)
    _wait_for(
        lambda: list(spool.glob("*.json")), timeout=20, what="a spooled batch", procs=world.procs
    )
    assert MetricPoint.objects.count() == 0
    world.procs.stop("agent")  # restart with the batch still on disk
    assert len(list(spool.glob("*.json"))) == 1

    # 3. Back online: the spooled batch is sent and stored once.
    start_agent(world, token, url=world.url, port=port)
    _wait_for(
        lambda: MetricBatch.objects.exists() and not list(spool.glob("*.json")),
        timeout=30,
        what="the batch at the control plane",
        procs=world.procs,
    )
    points = {
        (p.metric.name, p.dims_key): (p.value, p.count)
        for p in MetricPoint.objects.select_related("metric")
    }
    # 3 home_elsewhere < k: suppressed; no_rule too (else total - no_rule = 3 would tell).
    assert points == {
        ("ingestion.records_routed", ""): (30.0, 30),
        ("ingestion.records_refused", ""): (15.0, 15),
    }
    assert MetricBatch.objects.get().suppressed == 2
    metrics_status = _get(port, "/status")["metrics"]
    assert metrics_status["spooled_batches"] == 0 and metrics_status["sent_batches"] == 1
