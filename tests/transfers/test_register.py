"""The dry run reads the register (mechanisms, countries, categories, regions) from memory
until it changes: after a change here at once, after a change elsewhere within a second."""

import pytest
from django.core.cache import cache

from controlplane.transfers import policy as p
from controlplane.transfers import register
from controlplane.transfers.models import Mechanism

from .test_web_and_api import ISSUE_EXAMPLE, evaluate

# Committed transactions: the register is never kept inside one.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_register():
    register.forget()
    yield
    register.forget()


def _basis(client):
    answer = evaluate(client, ISSUE_EXAMPLE)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    return body["basis"], (body["mechanism"] or {}).get("key")


def test_the_dry_run_reads_no_mechanism_country_or_category_once_warm(
    world, client, django_assert_num_queries
):
    client.force_login(world.estate.requester)
    first = evaluate(client, ISSUE_EXAMPLE).json()
    with django_assert_num_queries(0):  # the person kept too (controlplane/people.py)
        again = evaluate(client, ISSUE_EXAMPLE).json()
    assert again == first and first["mechanism"]["key"] == "eu-adequacy-US"


def test_a_change_here_counts_at_the_next_dry_run(world, client):
    client.force_login(world.estate.requester)
    assert _basis(client) == ("adequacy", "eu-adequacy-US")
    adequacy = Mechanism.objects.get(key="eu-adequacy-US")
    adequacy.status = p.REVOKED
    adequacy.save()  # signals: forgotten at once, a new generation after the commit
    assert _basis(client) != ("adequacy", "eu-adequacy-US")


def test_a_change_in_another_process_counts_at_the_next_dry_run(world, client):
    """Another process changed the register: its commit set a new generation in the shared
    cache. Until then this process answers from memory (so it did not read the database)."""
    client.force_login(world.estate.requester)
    assert _basis(client) == ("adequacy", "eu-adequacy-US")
    Mechanism.objects.filter(key="eu-adequacy-US").update(status=p.REVOKED)  # no signal here
    assert _basis(client) == ("adequacy", "eu-adequacy-US")  # from memory
    cache.set(register.GENERATION_KEY, "set-by-another-process", None)
    register._memo.checked_at -= register.CHECK_SECONDS  # a second later
    assert _basis(client) != ("adequacy", "eu-adequacy-US")


def test_a_cache_that_fails_means_the_database(world, client, monkeypatch):
    client.force_login(world.estate.requester)
    assert _basis(client) == ("adequacy", "eu-adequacy-US")
    Mechanism.objects.filter(key="eu-adequacy-US").update(status=p.REVOKED)

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(register.cache, "get", down)
    register._memo.checked_at -= register.CHECK_SECONDS  # a second later
    assert _basis(client) != ("adequacy", "eu-adequacy-US")
