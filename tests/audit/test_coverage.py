"""What issue 20 found missing from the trail: sign-ins, and region rights granted through
groups, global permissions and the superuser flag."""

import pytest
from django.contrib.auth.models import Group, Permission
from guardian.shortcuts import assign_perm, remove_perm

from controlplane.audit.context import acting_as
from controlplane.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _events(action, **filters):
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("sequence"))


def _everything(event) -> str:
    return " ".join(
        str(v)
        for v in (event.actor_label, event.object_repr, event.data, event.action, event.actor_id)
    )


def test_sign_ins_failures_and_sign_outs_are_audited_without_the_password(estate, client):
    client.post("/login/", {"username": "dpo-eu", "password": "Tr0ub4dor&3"})
    # Typed into the wrong field: what is not an account's name is not kept.
    client.post("/login/", {"username": "my-secret-passw0rd", "password": "x"})
    client.post("/login/", {"username": "dpo-eu", "password": estate.password})
    client.post("/logout/")
    [known, unknown] = _events("user.login_failed")
    assert known.data == {"username": "dpo-eu", "known_user": True, "via": "/login/"}
    assert known.object_repr == "dpo-eu" and known.actor_label == "login"
    assert unknown.data == {"username": None, "known_user": False, "via": "/login/"}
    [signed_in] = _events("user.logged_in")
    assert signed_in.actor_label == "dpo-eu" and signed_in.data == {"via": "/login/"}
    assert len(_events("user.logged_out")) == 1
    for event in AuditEvent.objects.filter(action__startswith="user."):
        text = _everything(event)
        for secret in ("Tr0ub4dor&3", "my-secret-passw0rd", estate.password, "********"):
            assert secret not in text, (event.action, text)


def test_a_lockout_is_audited(estate, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        client.post("/login/", {"username": "dpo-uk", "password": "guess"})
    [locked] = _events("user.locked_out")[:1]
    assert locked.data["username"] == "dpo-uk" and "guess" not in _everything(locked)


def test_token_issuance_is_audited(estate, client):
    client.post("/api/v1/auth/token/", {"username": "auditor", "password": estate.password})
    [issued] = _events("api_token.issued")
    assert issued.actor_label == "auditor" and set(issued.data) == {"expires"}


def test_a_region_right_granted_to_a_group_names_the_people_it_reaches(estate, make_user):
    team = Group.objects.create(name="eu-privacy-team")
    alice, bob = make_user("dpo", username="alice"), make_user("dpo", username="bob")
    team.user_set.add(alice, bob)
    with acting_as(estate.admin):
        assign_perm("regions.approve_transfers", team, estate.uk_south)
        remove_perm("regions.approve_transfers", team, estate.uk_south)
    granted = _events("permission.granted", data__holder="group:eu-privacy-team")
    revoked = _events("permission.revoked", data__holder="group:eu-privacy-team")
    for [event] in (granted, revoked):
        assert event.actor_label == "admin" and event.region == "uk-south"
        assert event.data["permission"] == "approve_transfers"
        assert event.data["members"] == ["alice", "bob"]


def test_group_membership_is_audited_from_either_side_and_when_cleared(estate, make_user):
    team = Group.objects.create(name="eu-privacy-team")
    carol = make_user(username="carol")
    with acting_as(estate.admin):
        team.user_set.add(carol)  # from the group's side
        team.user_set.remove(carol)
        carol.groups.add(team)
        carol.groups.clear()
    events = AuditEvent.objects.filter(
        action__in=["user.role_granted", "user.role_removed"], object_repr="carol"
    ).order_by("sequence")
    assert [(e.action, e.data["roles"]) for e in events] == [
        ("user.role_granted", ["eu-privacy-team"]),
        ("user.role_removed", ["eu-privacy-team"]),
        ("user.role_granted", ["eu-privacy-team"]),
        ("user.role_removed", ["eu-privacy-team"]),
    ]
    assert {e.actor_label for e in events} == {"admin"}


def test_a_global_permission_is_a_grant_on_every_region_and_is_audited(estate, make_user):
    team = Group.objects.create(name="all-regions")
    dave = make_user(username="dave")
    team.user_set.add(dave)
    approve = Permission.objects.get(codename="approve_transfers")
    with acting_as(estate.admin):
        team.permissions.add(approve)
        approve.user_set.add(dave)  # from the permission's side
        dave.user_permissions.clear()
    [to_group, to_dave] = _events("permission.granted", data__scope__startswith="global")
    assert to_group.data["holder"] == "group:all-regions" and to_group.data["members"] == ["dave"]
    assert to_group.data["permission"] == "regions.approve_transfers"
    assert to_dave.data["holder"] == "user:dave"
    [cleared] = _events("permission.revoked", data__holder="user:dave")
    assert cleared.data["permission"] == "regions.approve_transfers"
    from controlplane.permissions import regions_for

    assert regions_for(dave, "approve_transfers").count() == 5  # what the events warn of


def test_becoming_a_superuser_is_audited(estate, make_user):
    erin = make_user(username="erin")
    with acting_as(estate.admin):
        erin.is_superuser = True
        erin.save()
        erin.save(update_fields=["last_login"])  # nothing changed: nothing recorded
    [event] = _events("user.flags_changed", object_repr="erin")
    assert event.data == {"is_superuser": {"from": False, "to": True}}
    assert event.actor_label == "admin"
