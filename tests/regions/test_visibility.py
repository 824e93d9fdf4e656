"""A user sees only the regions guardian lets them see, in the UI and the API alike."""

import pytest

from controlplane.permissions import can, restrict
from regions.models import DataStore, Region

pytestmark = pytest.mark.django_db


def test_restrict_scopes_regions_and_their_children(estate, make_user):
    dpo = make_user("dpo", view=[estate.eu_central], approve_transfers=[estate.eu_central])
    assert list(restrict(Region.objects.all(), dpo, "view")) == [estate.eu_central]
    stores = restrict(DataStore.objects.all(), dpo, "view")
    assert {s.region_id for s in stores} == {estate.eu_central.pk}
    assert list(restrict(Region.objects.all(), dpo, "approve_deployments")) == []
    assert can(dpo, "approve_transfers", estate.eu_central)
    assert not can(dpo, "approve_transfers", estate.us_east)


def test_auditor_reads_every_region_but_may_approve_nothing(estate):
    assert restrict(Region.objects.all(), estate.auditor, "view").count() == 5
    assert restrict(Region.objects.all(), estate.auditor, "approve_transfers").count() == 0
    assert not can(estate.auditor, "approve_deployments", estate.us_east)


def test_unknown_action_is_a_programming_error(estate):
    with pytest.raises(ValueError, match="Unknown action"):
        restrict(Region.objects.all(), estate.admin, "delete_everything")


def test_region_list_page_omits_what_the_dpo_may_not_see(estate, make_user, client):
    dpo = make_user("dpo", view=[estate.eu_central])
    client.force_login(dpo)
    page = client.get("/regions/").content.decode()
    assert 'data-region="eu-central"' in page
    assert 'data-region="us-east"' not in page
    assert client.get("/regions/eu-central/").status_code == 200
    assert client.get("/regions/us-east/").status_code == 404


def test_api_list_and_detail_are_scoped(estate, make_user, client):
    dpo = make_user("dpo", view=[estate.eu_central])
    client.force_login(dpo)
    listed = client.get("/api/v1/regions/").json()
    assert [r["slug"] for r in listed["results"]] == ["eu-central"]
    assert client.get("/api/v1/regions/us-east/").status_code == 404
    stores = client.get("/api/v1/data-stores/").json()["results"]
    assert stores and {s["region"] for s in stores} == {"eu-central"}
    assert client.get("/api/v1/data-stores/?region=us-east").json()["results"] == []


def test_every_page_needs_a_login(estate, client):
    for url in ["/", "/regions/", "/regions/eu-central/", "/audit/"]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/login/"), url
    assert client.get("/api/v1/regions/").status_code in (401, 403)
    assert client.get("/login/").status_code == 200


def test_token_authentication_for_people(estate, client):
    from knox.models import AuthToken

    _, token = AuthToken.objects.create(user=estate.dpo_uk)
    response = client.get("/api/v1/regions/", HTTP_AUTHORIZATION=f"Token {token}")
    assert [r["slug"] for r in response.json()["results"]] == ["uk-south"]


def test_auditors_change_nothing_in_the_ui_or_the_api(estate, client):
    client.force_login(estate.auditor)
    before = DataStore.objects.count()
    response = client.post(
        "/api/v1/data-stores/",
        {
            "region": "eu-central",
            "name": "n",
            "kind": "queue",
            "location_uri": "q://x",
            "retention_days": 3,
        },
        content_type="application/json",
    )
    assert response.status_code == 403
    assert client.post("/admin/regions/datastore/add/", {}).status_code == 403
    assert DataStore.objects.count() == before
    assert client.get("/audit/").status_code == 200


def test_requester_cannot_read_the_audit_trail(estate, client):
    client.force_login(estate.requester)
    assert client.get("/audit/").status_code == 403


def test_region_rights_in_one_query_answer_what_guardian_answers(estate, make_user):
    """restrict() reads every right of a person in one query; for every way of holding a right
    (directly or through a group, on a region or globally) it must name the regions guardian's
    get_objects_for_user(accept_global_perms=True) names, and nothing else."""
    from django.contrib.auth.models import Group, Permission
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from guardian.shortcuts import assign_perm, get_objects_for_user

    from controlplane.permissions import ACTION_PERMISSIONS, regions_for

    team = Group.objects.create(name="eu-team")
    assign_perm("regions.approve_transfers", team, estate.eu_west)
    assign_perm("regions.view_region", team, estate.uk_south)
    global_group = Group.objects.create(name="deployers-everywhere")
    global_group.permissions.add(Permission.objects.get(codename="approve_deployments"))
    direct = make_user("dpo", view=[estate.eu_central], approve_transfers=[estate.eu_central])
    in_team = make_user("dpo", view=[estate.us_east])
    in_team.groups.add(team)
    deployer = make_user("ml-engineer")
    deployer.groups.add(global_group)
    viewer_everywhere = make_user("requester")
    viewer_everywhere.user_permissions.add(Permission.objects.get(codename="view_region"))
    nobody = make_user("requester")
    for person in (direct, in_team, deployer, viewer_everywhere, nobody):
        person = type(person).objects.get(pk=person.pk)  # a fresh object, as in a request
        with CaptureQueriesContext(connection) as queries:
            ours = {action: set(regions_for(person, action)) for action in ACTION_PERMISSIONS}
        assert len(queries) <= 1 + 3  # roles and rights in one query, then the three lists
        fresh = type(person).objects.get(pk=person.pk)
        theirs = {
            action: set(get_objects_for_user(fresh, perm, klass=Region, accept_global_perms=True))
            for action, perm in ACTION_PERMISSIONS.items()
        }
        assert ours == theirs, person.username
