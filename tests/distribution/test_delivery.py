"""Push delivery (a "refresh now" signal) against a real agent listener: outbox, attempts,
backoff, refusals."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from agents.client import Agent as RegionalAgent
from agents.config import AgentConfig
from agents.server import make_server
from controlplane.distribution import services, tasks
from controlplane.distribution.models import Delivery, DeliveryAttempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_agent(tmp_path, bundle_keys):
    """A real agent listening on a loopback port, as ``sovereign-agent run --listen`` does."""
    root = tmp_path / "root.json"
    root.write_bytes(bundle_keys)
    agent = RegionalAgent(
        AgentConfig(region="eu-central", trusted_root=str(root), state_dir=str(tmp_path / "agent"))
    )
    server = make_server(agent, ("127.0.0.1", 0))
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield agent, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _enroll_and_publish(estate, url, **kwargs):
    services.agent_enroll(region=estate.eu_central, name="pushed", callback_url=url, **kwargs)
    bundle = services.publish_region(region=estate.eu_central)
    return bundle, Delivery.objects.get(bundle=bundle)


def test_push_is_a_refresh_signal_the_agent_acknowledges(estate, local_agent):
    agent, url = local_agent
    bundle, delivery = _enroll_and_publish(estate, url)
    assert not agent.wake.is_set()
    outcome = services.deliver(delivery.pk)
    assert outcome.state == "delivered"
    assert agent.wake.is_set()  # the agent refreshes through TUF; the push carried nothing
    attempt = DeliveryAttempt.objects.get(delivery=delivery)
    assert attempt.ok and attempt.http_status == 202 and attempt.number == 1
    # A duplicate task finds nothing to claim and does not push twice.
    assert services.deliver(delivery.pk).state == "delivered"
    assert DeliveryAttempt.objects.count() == 1


def test_agent_down_means_retries_with_exponential_backoff_then_give_up(
    estate, settings, bundle_keys
):
    settings.BUNDLE_PUSH_MAX_ATTEMPTS = 4
    bundle, delivery = _enroll_and_publish(estate, "http://127.0.0.1:9")
    waits = []
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(4):
            outcome = services.deliver(delivery.pk)
            if outcome.retry_in is None:
                break
            waits.append(outcome.retry_in)
            assert services.deliver(delivery.pk).state == "pending"  # not due yet: no attempt
            clock.shift(timedelta(seconds=outcome.retry_in))
    assert waits == [2.0, 4.0, 8.0]
    delivery.refresh_from_db()
    assert delivery.state == "failed" and delivery.attempts == 4
    assert DeliveryAttempt.objects.filter(delivery=delivery, ok=False).count() == 4


def test_a_refusal_is_recorded_and_not_retried(estate, bundle_keys):
    from tests.agents.evil_server import EvilServer, ok

    server = EvilServer(
        lambda conn, req: conn.sendall(ok(b'{"code": "not_found"}', status="404 Not Found"))
    )
    try:
        bundle, delivery = _enroll_and_publish(estate, server.url)
        outcome = services.deliver(delivery.pk)
    finally:
        server.close()
    assert outcome.state == "refused" and outcome.retry_in is None
    assert server.requests[0].startswith(b"POST /refresh ")
    delivery.refresh_from_db()
    assert "not_found" in delivery.last_error


def test_sweep_requeues_what_a_dead_broker_left_behind(estate, local_agent, settings):
    """The outbox row survives a commit with no worker; the beat sweep delivers it later."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from controlplane.celery import app

    app.conf.task_always_eager = True
    try:
        agent, url = local_agent
        bundle, delivery = _enroll_and_publish(estate, url)  # on_commit never ran: nothing queued
        assert Delivery.objects.get(pk=delivery.pk).state == "pending"
        assert tasks.sweep_deliveries.delay().get() == 1
    finally:
        app.conf.task_always_eager = False
    assert Delivery.objects.get(pk=delivery.pk).state == "delivered"
    assert agent.wake.is_set()


def test_revoking_an_agent_cancels_its_pending_pushes(estate, bundle_keys):
    bundle, delivery = _enroll_and_publish(estate, "http://127.0.0.1:9")
    services.agent_revoke(agent=delivery.agent)
    assert Delivery.objects.get(pk=delivery.pk).state == "failed"
    assert services.due_deliveries() == []
