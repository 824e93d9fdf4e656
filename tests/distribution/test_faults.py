"""Distribution under faults: what agents report is checked, the cache never lies, Redis may die.

Issue 14 point 5 and issue 13 points 7, 8, 9 and 11.
"""

import socket
import threading
import time

import pytest
from django.db import connection
from tuf.api.metadata import Metadata

from controlplane import shared_cache
from controlplane.distribution import services
from controlplane.distribution.models import ConfigBundle, Delivery
from regions.models import Agent

TIMESTAMP = "/api/v1/agent/tuf/timestamp.json"
STATUS = "/api/v1/agent/status"


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def _report(client, token, **fields):
    body = {"region": "eu-central", "agent_version": "0.1.0", "last_error": None, **fields}
    return client.post(STATUS, body, content_type="application/json", **auth(token))


# --------------------------------------------------------------------------- #14.5


@pytest.mark.django_db
def test_applied_report_must_name_a_bundle_of_the_agents_region(client, enrolled, estate):
    agent, token = enrolled
    mine = ConfigBundle.objects.get(region=estate.eu_central)
    theirs = services.publish_region(region=estate.us_east)
    for version, digest in [
        (999, mine.digest),
        (mine.version, "sha256:" + "0" * 64),
        (theirs.version, theirs.digest),
    ]:
        response = _report(client, token, applied_version=version, applied_digest=digest)
        assert response.status_code == 409, (version, digest, response.content)
        assert "not a bundle of this region" in str(response.json())
    agent.refresh_from_db()
    assert agent.applied_version is None and agent.applied_digest == ""
    ok = _report(client, token, applied_version=mine.version, applied_digest=mine.digest)
    assert ok.status_code == 200
    agent.refresh_from_db()
    assert (agent.applied_version, agent.applied_digest) == (mine.version, mine.digest)


@pytest.mark.django_db
def test_an_error_on_the_agents_page_clears_when_the_agent_reports_success(
    client, enrolled, estate
):
    agent, token = enrolled
    mine = ConfigBundle.objects.get(region=estate.eu_central)
    error = {"code": "bad_signature", "message": "pushed bundle refused"}
    _report(
        client, token, applied_version=mine.version, applied_digest=mine.digest, last_error=error
    )
    agent.refresh_from_db()
    assert agent.last_error_code == "bad_signature"
    _report(client, token, applied_version=mine.version, applied_digest=mine.digest)
    agent.refresh_from_db()
    assert (agent.last_error_code, agent.last_error, agent.drift) == ("", "", "synced")
    page = client.get(f"/agents/{agent.pk}/")
    assert b"pushed bundle refused" not in page.content


# --------------------------------------------------------------------------- #13.7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_status_reports_during_publishes_never_deadlock(postgres, estate, bundle_keys):
    """Publishing locks the region row and then references the agent rows (deliveries); a
    status report locked the agent row and, through select_related, the region row too."""
    region = estate.eu_central
    tokens = []
    for i in range(4):
        agent, token = services.agent_enroll(
            region=region, name=f"a{i}", callback_url=f"http://127.0.0.1:9/{i}"
        )
        tokens.append((agent, token))
    services.publish_region(region=region)
    principals = [services.authenticate_agent(token) for _, token in tokens]
    errors = []
    done = threading.Event()
    published = []

    def publisher():
        try:
            for _ in range(15):
                published.append(services.publish_region(region=region, force=True))
        except Exception as exc:  # noqa: BLE001 - counted below
            errors.append(f"publish: {exc!r}")
        finally:
            done.set()
            connection.close()

    def reporter(principal):
        try:
            while not done.is_set():
                latest = ConfigBundle.objects.filter(region=region).order_by("-version").first()
                services.agent_report_status(
                    principal=principal,
                    data={
                        "applied_version": latest.version,
                        "applied_digest": latest.digest,
                        "agent_version": "t",
                    },
                )
        except Exception as exc:  # noqa: BLE001 - counted below
            errors.append(f"report: {exc!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=publisher)]
    threads += [threading.Thread(target=reporter, args=(p,)) for p in principals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert len(published) == 15 and all(published)


# --------------------------------------------------------------------------- #13.8 and #13.9


class BrokenCache:
    """Stands in for a Redis that refuses every command (connection refused or timed out)."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("Redis is down")

        return fail


@pytest.fixture
def redis_down(settings):
    """Point the cache at a Redis port where nothing listens, with the production timeouts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    services._memo.clear()  # the settings signal re-creates the cache handlers
    yield
    services._memo.clear()


@pytest.mark.django_db
def test_agent_paths_answer_from_the_database_while_redis_is_down(
    client, estate, bundle_keys, redis_down
):
    agent, token = services.agent_enroll(region=estate.eu_central, name="eu-1")
    bundle = services.publish_region(region=estate.eu_central)
    response = client.get(TIMESTAMP, **auth(token))
    assert response.status_code == 200
    snapshot_version = Metadata.from_bytes(response.content).signed.snapshot_meta.version
    services._memo.clear()
    snap = client.get(f"/api/v1/agent/tuf/{snapshot_version}.snapshot.json", **auth(token))
    assert snap.status_code == 200
    sha = bundle.digest.removeprefix("sha256:")
    target = client.get(f"/api/v1/agent/tuf/targets/eu-central/{sha}.bundle.json", **auth(token))
    assert target.status_code == 200 and bytes(bundle.target) == target.content
    report = _report(client, token, applied_version=bundle.version, applied_digest=bundle.digest)
    assert report.status_code == 200, report.content
    assert report.json()["desired_version"] == bundle.version


@pytest.mark.django_db
def test_a_lost_cache_invalidation_never_makes_polls_or_deliveries_lie(
    client, estate, bundle_keys, monkeypatch, django_capture_on_commit_callbacks, settings, caplog
):
    settings.BUNDLE_PUSH_ENABLED = False
    settings.BUNDLE_HEAD_CACHE_SECONDS = 1  # the timestamp's cache entry
    agent, token = services.agent_enroll(
        region=estate.eu_central, name="eu-1", callback_url="http://127.0.0.1:9"
    )
    services.publish_region(region=estate.eu_central)
    old = Metadata.from_bytes(client.get(TIMESTAMP, **auth(token)).content)
    # The cache keeps answering reads but loses the invalidation after the next publish.
    real = shared_cache.cache

    class LosesDeletes:
        get, set = real.get, real.set
        delete = BrokenCache().delete

    monkeypatch.setattr(shared_cache, "cache", LosesDeletes())
    with django_capture_on_commit_callbacks(execute=True):
        newer = services.publish_region(region=estate.eu_central, force=True)
    assert "post-commit cache invalidation" in caplog.text
    monkeypatch.setattr(shared_cache, "cache", real)
    # The push of the real latest bundle is not "superseded" by what the stale cache says.
    delivery = Delivery.objects.get(bundle=newer)
    assert services.deliver(delivery.pk).state != Delivery.State.SUPERSEDED
    # The stale head lives only as long as its short timeout (5 s by default; 1 s here).
    time.sleep(1.1)
    services._memo.clear()
    answer = Metadata.from_bytes(client.get(TIMESTAMP, **auth(token)).content)
    assert answer.signed.version > old.signed.version
    assert answer.signed.snapshot_meta.version > old.signed.snapshot_meta.version
    assert newer.role_version == 2


# --------------------------------------------------------------------------- #13.11


@pytest.mark.django_db
def test_delivery_updated_at_moves_when_the_row_changes(estate, bundle_keys, settings):
    settings.BUNDLE_PUSH_ENABLED = False
    agent, _ = services.agent_enroll(
        region=estate.eu_central, name="eu-1", callback_url="http://127.0.0.1:9"
    )
    bundle = services.publish_region(region=estate.eu_central)
    delivery = Delivery.objects.get(bundle=bundle)
    before = delivery.updated_at
    services.deliver(delivery.pk)  # nothing listens on port 9: an attempt, still pending
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.updated_at > before
    second = delivery.updated_at
    services.publish_region(region=estate.eu_central, force=True)  # supersedes it
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.SUPERSEDED and delivery.updated_at > second
    assert Agent.objects.filter(pk=agent.pk).exists()
