"""People kept per process (controlplane/people.py): fast, and never a request late.

A signed-in person's second request reads nothing from the database; and whatever changes who
they are or what they may do, in this process or in another one, counts from their next
request. "Another process" is a real one: a Django process started for the test, on the same
database and Redis, whose signal receivers are the only way this process can learn of it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from controlplane import people, shared_cache
from regions.models import Region

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kept(redis_url, postgres, reference_data):
    people.forget()
    shared_cache.reset()
    yield
    people.forget()
    shared_cache.reset()


@pytest.fixture
def dpo(kept, make_user):
    from regions.models import Country, Jurisdiction

    region = Region.objects.create(
        slug="eu-kept",
        name="EU kept",
        jurisdiction=Jurisdiction.objects.get(code="EEA"),
        country=Country.objects.get(code="DE"),
        provider="aws",
        cloud_region="eu-central-1",
    )
    user = make_user("dpo", view=[region], approve_transfers=[region])
    client = Client()
    client.force_login(user)
    return user, region, client


def regions_seen(client) -> list[str] | int:
    response = client.get("/api/v1/regions/")
    if response.status_code != 200:
        return response.status_code
    return [r["slug"] for r in response.json()["results"]]


def in_another_process(code: str) -> None:
    """Run ``code`` in a separate Django process on this test's database and Redis."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); exec(open(0).read())"],
        input=code,
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_second_request_reads_nothing_from_the_database(dpo):
    _, region, client = dpo
    people.forget()
    with CaptureQueriesContext(connection) as first:
        assert regions_seen(client) == [region.slug]
    with CaptureQueriesContext(connection) as second:
        assert regions_seen(client) == [region.slug]
    # Kept: the session, the person and their rights are not read again (3 queries).
    assert len(first) - len(second) == 3
    assert not any("django_session" in q["sql"] for q in second.captured_queries)


CHANGES = {
    "a right revoked": (
        "from guardian.shortcuts import remove_perm\n"
        "from django.contrib.auth import get_user_model\n"
        "from regions.models import Region\n"
        "u = get_user_model().objects.get(pk={pk})\n"
        "remove_perm('regions.view_region', u, Region.objects.get(slug='eu-kept'))\n",
        [],
    ),
    "a group left": (
        "from django.contrib.auth import get_user_model\n"
        "from django.contrib.auth.models import Group\n"
        "u = get_user_model().objects.get(pk={pk})\n"
        "u.groups.remove(Group.objects.get(name='dpo'))\n",
        "role",
    ),
    "an account deactivated": (
        "from django.contrib.auth import get_user_model\n"
        "get_user_model().objects.filter(pk={pk}).update(is_active=False)\n"
        "u = get_user_model().objects.get(pk={pk}); u.save()\n",
        401,
    ),
    "a password changed": (
        "from django.contrib.auth import get_user_model\n"
        "u = get_user_model().objects.get(pk={pk}); u.set_password('another-pw-1234'); u.save()\n",
        401,
    ),
    "the session ended elsewhere": (
        "from django.contrib.sessions.models import Session\n"
        "for s in Session.objects.all(): s.delete()\n",
        401,
    ),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_change_in_another_process_counts_from_the_next_request(dpo, change):
    user, region, client = dpo
    assert regions_seen(client) == [region.slug]
    assert regions_seen(client) == [region.slug]  # now kept in this process
    code, expected = CHANGES[change]
    in_another_process(code.format(pk=user.pk))
    if expected == "role":
        response = client.get("/")
        assert "dpo" not in response.context["roles"]
    else:
        assert regions_seen(client) == expected


def test_a_right_granted_here_counts_from_the_next_request(dpo, make_user):
    from guardian.shortcuts import assign_perm

    user, region, client = dpo
    other = Region.objects.create(
        slug="eu-kept-2",
        name="EU kept 2",
        jurisdiction=region.jurisdiction,
        country=region.country,
        provider="aws",
        cloud_region="eu-central-1",
    )
    assert regions_seen(client) == [region.slug]
    assign_perm("regions.view_region", user, other)
    assert sorted(regions_seen(client)) == [region.slug, other.slug]


def test_signing_out_ends_the_kept_person_in_every_process(dpo):
    _, region, client = dpo
    assert regions_seen(client) == [region.slug]
    stolen = Client()
    stolen.cookies = client.cookies  # the same session, as a second tab or a stolen cookie
    assert regions_seen(stolen) == [region.slug]
    client.post("/logout/")
    assert regions_seen(stolen) == 401


def test_without_a_shared_cache_nothing_is_kept(dpo, settings):
    _, region, client = dpo
    settings.REDIS_URL = None
    assert regions_seen(client) == [region.slug]
    with CaptureQueriesContext(connection) as second:
        assert regions_seen(client) == [region.slug]
    assert any("django_session" in q["sql"] for q in second.captured_queries)


def test_a_redis_that_fails_reads_the_person_from_the_database(dpo, settings):
    _, region, client = dpo
    assert regions_seen(client) == [region.slug]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with CaptureQueriesContext(connection) as read:
        assert regions_seen(client) == [region.slug]
    assert any("django_session" in q["sql"] for q in read.captured_queries)
    # Skipped for a few seconds after: a Redis that hangs costs one timeout, not one a request.
    assert shared_cache.get(people.GENERATION_KEY, unavailable="skipped") == "skipped"
    assert regions_seen(client) == [region.slug]
