"""The audit trail is append-only and tamper-evident."""

import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections, transaction

from controlplane.audit.actors import Actor
from controlplane.audit.models import AuditEvent, AuditEventIsImmutable
from controlplane.audit.selectors import verify_chain
from controlplane.audit.services import record_event


def _append(n, label="test"):
    for i in range(n):
        record_event(
            actor=Actor.system(label), action="test.appended", data={"i": i, "when": "2026-11-25"}
        )


@pytest.mark.django_db
def test_events_link_into_one_chain_and_verify():
    _append(5)
    events = list(AuditEvent.objects.order_by("sequence"))
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    for before, after in zip(events, events[1:], strict=False):
        assert after.previous_hash == before.hash
    assert verify_chain().intact
    call_command("verify_audit")


@pytest.mark.django_db
def test_orm_cannot_update_or_delete_events():
    _append(2)
    event = AuditEvent.objects.first()
    event.action = "forged"
    with pytest.raises(AuditEventIsImmutable):
        event.save()
    with pytest.raises(AuditEventIsImmutable):
        event.delete()
    with pytest.raises(AuditEventIsImmutable):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(AuditEventIsImmutable):
        AuditEvent.objects.all().delete()


@pytest.mark.django_db
def test_raw_sql_tampering_is_found_and_named(tamper):
    _append(6)
    victim = AuditEvent.objects.get(sequence=4)
    with tamper() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET data = %s WHERE id = %s",
            ['{"i": 999, "when": "2026-11-25"}', victim.pk],
        )
    verdict = verify_chain()
    assert not verdict.intact and verdict.first_broken_sequence == 4
    with pytest.raises(CommandError, match="broken at event #4"):
        call_command("verify_audit")


@pytest.mark.django_db
def test_a_deleted_event_is_found(tamper):
    _append(4)
    with tamper() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE sequence = 2")
    verdict = verify_chain()
    assert not verdict.intact and verdict.first_broken_sequence == 3


@pytest.mark.django_db
def test_an_event_rolls_back_with_the_change_it_records():
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(actor=Actor.system(), action="test.rolled_back")
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.filter(action="test.rolled_back").exists()
    _append(1)
    assert verify_chain().intact


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_on_postgresql_never_fork_the_chain(postgres):
    writers, per_writer = 4, 25
    barrier = threading.Barrier(writers)
    errors = []

    def write(label):
        try:
            barrier.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    record_event(actor=Actor.system(label), action="test.concurrent", data={"i": i})
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(f"writer-{n}",)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEvent.objects.count() == writers * per_writer
    verdict = verify_chain()
    assert verdict.intact, verdict
    assert verdict.events_checked == writers * per_writer


@pytest.mark.django_db
def test_audit_page_filters_by_actor_action_and_object(estate, client):
    client.force_login(estate.auditor)
    page = client.get("/audit/?action=region.created").content.decode()
    assert "eu-central" in page and "permission.granted" not in page
    page = client.get("/audit/?action=permission.granted&object=us-east").content.decode()
    rows = page.split('data-testid="audit-table"')[1]  # the filter bar lists every region
    assert "us-east" in rows and "eu-west" not in rows
    page = client.get("/audit/?actor=nobody-like-this").content.decode()
    assert "No events match." in page
    page = client.get("/audit/?since=2999-01-01T00:00").content.decode()
    assert "No events match." in page


@pytest.mark.django_db
def test_granting_and_removing_region_rights_is_audited(estate, make_user):
    from guardian.shortcuts import assign_perm, remove_perm

    from controlplane.audit.context import acting_as

    user = make_user("dpo")
    with acting_as(estate.admin):
        assign_perm("regions.approve_transfers", user, estate.uk_south)
        remove_perm("regions.approve_transfers", user, estate.uk_south)
    granted = AuditEvent.objects.get(
        action="permission.granted", data__holder=f"user:{user.username}"
    )
    revoked = AuditEvent.objects.get(
        action="permission.revoked", data__holder=f"user:{user.username}"
    )
    for event in (granted, revoked):
        assert event.actor_label == "admin"
        assert event.object_repr == "uk-south"
        assert event.data["permission"] == "approve_transfers"
    assert AuditEvent.objects.filter(action="user.role_granted", object_id=str(user.pk)).exists()
