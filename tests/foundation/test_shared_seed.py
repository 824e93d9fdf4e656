"""The suite's shared module seed (tests/conftest.py): plain tests share it, a committing test in
the same module never runs inside its transaction."""

import pytest
from django.db import connection

from regions.models import Region


@pytest.mark.django_db
def test_a_plain_test_runs_inside_the_modules_seed(estate):
    assert len(connection.atomic_blocks) >= 2  # the module's seed, then the test's own
    Region.objects.filter(slug="us-east").update(name="Renamed by a test")


@pytest.mark.django_db
def test_the_next_plain_test_finds_the_seed_whole(estate):
    assert Region.objects.get(slug="us-east").name != "Renamed by a test"


@pytest.mark.django_db(transaction=True)
def test_a_committing_test_beside_them_commits_for_real(estate):
    assert not connection.in_atomic_block
    assert Region.objects.count() == 5
