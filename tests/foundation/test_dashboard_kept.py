"""Kept dashboard panels: a person's panels come from the shared cache until something they
show changes. Committing tests (panels are never kept inside a transaction), so a module of
their own (a module's plain tests share one seeded estate)."""

import pytest

from controlplane.distribution import services as distribution

from .test_dashboard import DASHBOARD_QUERIES, _queries

pytestmark = pytest.mark.django_db(transaction=True)
# Kept panels and a kept person (controlplane/people.py): the unread notices and the regions.
KEPT = 2


def test_kept_panels_serve_a_person_until_something_they_show_changes(
    estate, client, tmp_path, settings
):
    from guardian.shortcuts import assign_perm

    settings.TUF_KEY_DIR = str(tmp_path / "no-keys")
    distribution.agent_enroll(region=estate.eu_central, name="agent-first")
    client.force_login(estate.dpo_eu)
    client.get("/")  # computed and kept
    assert _queries(client) == KEPT
    assign_perm("regions.view_region", estate.dpo_eu, estate.us_east)  # a right: a new generation
    assert _queries(client) == DASHBOARD_QUERIES["dpo_eu"]
    assert _queries(client) == KEPT
