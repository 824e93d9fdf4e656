"""Distribution under real faults (issue 13): a Redis of our own frozen and stopped while agents
poll, and status reports in parallel with publishes, against a live server on PostgreSQL."""

import os
import shutil
import signal
import subprocess
import threading
import time

import pytest
from django.db import connection

from agents.transport import TransportError, request
from controlplane import shared_cache
from controlplane.distribution import repository, services
from controlplane.distribution.models import ConfigBundle
from tests.integration.test_bundle_delivery import _free_port, _wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def own_redis(tmp_path):
    """A private redis-server on a free loopback port: this test may freeze and kill it."""
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"

    def ping():
        import redis

        try:
            return redis.Redis.from_url(url, socket_connect_timeout=0.2).ping()
        except redis.RedisError:
            return False

    _wait_for(ping, timeout=10, what="redis-server")
    yield proc, url
    if proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait()


def _agent_call(base, token, method, path, body=None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        return request(
            method, base + path, headers=headers, body=body, deadline_s=10, max_bytes=1 << 22
        ).status
    except TransportError as exc:
        return exc.code


def _status_body(bundle):
    import json

    return json.dumps(
        {"applied_version": bundle.version, "applied_digest": bundle.digest, "last_error": None}
    ).encode()


def test_agent_paths_never_answer_5xx_while_redis_is_frozen_then_stopped(
    postgres, estate, tuf_repository, settings, own_redis, live_server, tmp_path
):
    proc, url = own_redis
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.3, "socket_timeout": 0.3},
        }
    }
    settings.BUNDLE_PUSH_ENABLED = False
    shared_cache.reset()
    services._memo.clear()
    agent, token = services.agent_enroll(region=estate.eu_central, name="eu-1", poll_interval=1)
    bundle = services.publish_region(region=estate.eu_central)
    base = live_server.url
    answers = []
    snapshot = f"/api/v1/agent/tuf/{repository.load('snapshot').signed.version}.snapshot.json"
    target = f"/api/v1/agent/tuf/targets/eu-central/{bundle.digest[7:]}.bundle.json"

    def poll_for(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            answers.append(_agent_call(base, token, "GET", "/api/v1/agent/tuf/timestamp.json"))
            answers.append(_agent_call(base, token, "GET", snapshot))
            answers.append(_agent_call(base, token, "GET", target))
            answers.append(
                _agent_call(base, token, "POST", "/api/v1/agent/status", _status_body(bundle))
            )

    poll_for(1)  # warm: everything from Redis
    proc.send_signal(signal.SIGSTOP)  # frozen: connections hang
    poll_for(3)
    proc.send_signal(signal.SIGCONT)
    proc.kill()  # stopped: connections refused
    proc.wait()
    poll_for(2)
    bad = [a for a in answers if a not in (200, 304)]
    assert bad == [], (
        f"{len(bad)} of {len(answers)} agent calls failed: {sorted(set(map(str, bad)))}"
    )
    assert len(answers) > 20


def test_parallel_status_reports_during_publishes_end_without_errors(
    postgres, estate, tuf_repository, settings, live_server, tmp_path
):
    settings.BUNDLE_PUSH_ENABLED = False
    region = estate.eu_central
    tokens = [
        services.agent_enroll(region=region, name=f"a{i}", callback_url=f"http://127.0.0.1:9/{i}")[
            1
        ]
        for i in range(6)
    ]
    services.publish_region(region=region)
    base = live_server.url
    stop = threading.Event()
    answers = []

    def reporter(token):
        while not stop.is_set():
            latest = ConfigBundle.objects.filter(region=region).order_by("-version").first()
            answers.append(
                _agent_call(base, token, "POST", "/api/v1/agent/status", _status_body(latest))
            )
        connection.close()

    threads = [threading.Thread(target=reporter, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    errors = []
    try:
        for _ in range(20):
            try:
                services.publish_region(region=region, force=True)
            except Exception as exc:  # noqa: BLE001 - counted below
                errors.append(repr(exc))
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    # A report may name the version just superseded (409 is not possible: it exists); every
    # answer must be a success.
    bad = [a for a in answers if a != 200]
    assert errors == [] and bad == [], (errors, sorted(set(map(str, bad))))
    assert len(answers) >= 20
    assert os.environ.get("DATABASE_URL", "").startswith("postgres")
