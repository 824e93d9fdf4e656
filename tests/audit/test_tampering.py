"""Every way to tamper with the trail that issue 20 lists is found by ``verify_audit``.

The attacker here has the database (owner rights: past the append-only trigger, see the
``tamper`` fixture) and knows the code, but not the chain key (except where said) and cannot
write the checkpoint file, which lives outside the database.
"""

import hashlib
import hmac
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from controlplane.audit import keys
from controlplane.audit.actors import Actor
from controlplane.audit.checkpoint import checkpoint_path
from controlplane.audit.models import GENESIS_HASH, AuditEvent
from controlplane.audit.services import record_event

pytestmark = pytest.mark.django_db

TABLE = AuditEvent._meta.db_table


def _append(n, start=0):
    for i in range(start, start + n):
        record_event(actor=Actor.system("test"), action="test.appended", data={"i": i})


def _verify(*args):
    """verify_audit's output; raises CommandError when the chain is broken."""
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", *args, stdout=out)
    return out.getvalue()


def _checkpointed_trail(n=8):
    """A trail of ``n`` events whose head the nightly verification has anchored."""
    _append(n)
    assert "Checkpoint written" in _verify("--checkpoint")
    return list(AuditEvent.objects.order_by("sequence"))


def _rewrite(tamper, events, *, link):
    """Write ``events`` (changed in memory) back, relinking every hash after the first with
    ``link(event) -> (key_id, hash)``, and point the head row at the new end: a careful
    attacker leaves the database consistent."""
    previous = events[0].previous_hash
    with tamper() as cursor:
        for event in events:
            event.previous_hash = previous
            event.key_id, event.hash = link(event)
            cursor.execute(
                f"UPDATE {TABLE} SET sequence = %s, data = %s, action = %s, key_id = %s, "
                "previous_hash = %s, hash = %s WHERE id = %s",
                [
                    event.sequence,
                    json.dumps(event.data),
                    event.action,
                    event.key_id,
                    event.previous_hash,
                    event.hash,
                    event.pk,
                ],
            )
            previous = event.hash
        _fix_head(cursor)


def _fix_head(cursor):
    last = AuditEvent.objects.order_by("-sequence").values_list("sequence", "hash").first()
    sequence, last_hash = last or (0, GENESIS_HASH)
    cursor.execute(
        "UPDATE audit_auditchainhead SET last_sequence = %s, last_hash = %s", [sequence, last_hash]
    )


def _plain_sha256(event):
    """What the chain was before it was keyed: anyone can compute it."""
    return "", keys.link("", event.previous_hash, _content(event, ""))


def _guessed_key(event):
    """An HMAC under the current key id, with a key the attacker had to guess."""
    key_id = keys.current_key().key_id
    message = event.previous_hash.encode() + b"\n" + _content(event, key_id)
    return key_id, hmac.new(b"a guess" * 8, message, hashlib.sha256).hexdigest()


def _stolen_key(event):
    key_id = keys.current_key().key_id
    return key_id, keys.link(key_id, event.previous_hash, _content(event, key_id))


def _content(event, key_id):
    event.key_id = key_id
    return event.canonical_content()


def test_an_untouched_trail_verifies_and_extends_its_checkpoint():
    _checkpointed_trail(5)
    _append(3, start=5)
    out = _verify()
    assert "Audit chain intact: 8 events" in out
    assert "extends the checkpoint #5" in out
    assert all(e.key_id == keys.current_key().key_id for e in AuditEvent.objects.all())


def test_deleting_the_last_events_is_found(tamper):
    _checkpointed_trail(8)
    with tamper() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE sequence > 5")
    # A careless attacker leaves the head row: it says #8.
    with pytest.raises(CommandError, match="the chain head records #8: the newest events"):
        _verify()
    # A careful one rewinds it: the checkpoint outside the database still says #8.
    with tamper() as cursor:
        _fix_head(cursor)
    with pytest.raises(CommandError, match="checkpoint #8 .* recorded #8: events were removed"):
        _verify()


def test_deleting_an_event_in_the_middle_is_found(tamper):
    _checkpointed_trail(8)
    with tamper() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE sequence = 4")
    with pytest.raises(CommandError, match="#5: sequence jumps from 3 to 5"):
        _verify()


def test_deleting_a_middle_event_and_renumbering_the_rest_is_found(tamper):
    events = _checkpointed_trail(8)
    with tamper() as cursor:
        cursor.execute(f"DELETE FROM {TABLE} WHERE sequence = 4")
    survivors = events[4:]
    for event in survivors:
        event.sequence -= 1
    _rewrite(tamper, survivors, link=_plain_sha256)
    with pytest.raises(CommandError, match="event #4"):
        _verify()


@pytest.mark.parametrize("link", [_plain_sha256, _guessed_key], ids=["sha256", "guessed-key"])
def test_editing_an_event_and_recomputing_later_hashes_without_the_key_is_found(tamper, link):
    events = _checkpointed_trail(8)
    events[3].data = {"i": 999}
    _rewrite(tamper, events[3:], link=link)
    with pytest.raises(CommandError, match="event #4"):
        _verify()


def test_editing_an_event_and_recomputing_later_hashes_with_the_key_is_found(tamper):
    """The key leaked: the links are valid again, but the checkpoint outside the database
    names the old head's hash."""
    events = _checkpointed_trail(8)
    events[3].data = {"i": 999}
    _rewrite(tamper, events[3:], link=_stolen_key)
    from controlplane.audit.selectors import verify_chain

    assert verify_chain().intact  # without the checkpoint, the rewrite would pass
    with pytest.raises(CommandError, match="event #8: the chain no longer passes through"):
        _verify()


def test_truncating_the_whole_trail_is_found(tamper):
    _checkpointed_trail(8)
    with tamper() as cursor:
        cursor.execute(f"DELETE FROM {TABLE}")
        _fix_head(cursor)
    with pytest.raises(CommandError, match="trail ends at #0 but the checkpoint"):
        _verify()


def test_reordering_events_is_found(tamper):
    events = _checkpointed_trail(8)
    third, fourth = events[2], events[3]
    with tamper() as cursor:  # swap their places in the sequence
        cursor.execute(f"UPDATE {TABLE} SET sequence = 1000000 WHERE id = %s", [third.pk])
        cursor.execute(f"UPDATE {TABLE} SET sequence = 3 WHERE id = %s", [fourth.pk])
        cursor.execute(f"UPDATE {TABLE} SET sequence = 4 WHERE id = %s", [third.pk])
    with pytest.raises(CommandError, match="event #3"):
        _verify()
    # Relinked as well, without the key:
    third.sequence, fourth.sequence = 4, 3
    _rewrite(tamper, [fourth, third, *events[4:]], link=_guessed_key)
    with pytest.raises(CommandError, match="event #3"):
        _verify()


@pytest.mark.parametrize("link", [_plain_sha256, _guessed_key], ids=["sha256", "guessed-key"])
def test_a_forged_event_appended_with_database_knowledge_only_is_found(tamper, link):
    """Everything the database holds (hashes, key ids, the algorithm) is not enough."""
    events = _checkpointed_trail(4)
    last = events[-1]
    forged = AuditEvent(
        sequence=5,
        occurred_at=last.occurred_at,
        actor_kind="user",
        actor_id="1",
        actor_label="dpo-eu",
        action="transfer.approved",
        data={"forged": True},
        previous_hash=last.hash,
    )
    forged.key_id, forged.hash = link(forged)
    with tamper() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (sequence, occurred_at, actor_kind, actor_id, actor_label, "
            "action, object_type, object_id, object_repr, data, region, key_id, previous_hash, "
            "hash) VALUES (%s, %s, 'user', '1', 'dpo-eu', 'transfer.approved', '', '', '', %s, "
            "'', %s, %s, %s)",
            [5, last.occurred_at, json.dumps(forged.data), forged.key_id, last.hash, forged.hash],
        )
        _fix_head(cursor)
    with pytest.raises(CommandError, match="event #5"):
        _verify()


def test_rewriting_the_whole_trail_as_unkeyed_is_found(tamper):
    """The downgrade: every link recomputed as a pre-key SHA-256 chain."""
    events = _checkpointed_trail(6)
    events[1].data = {"i": 999}
    _rewrite(tamper, events, link=_plain_sha256)
    with pytest.raises(CommandError, match="unkeyed event after the chain was keyed at #1"):
        _verify()


def test_an_altered_checkpoint_file_is_refused_and_kept():
    _checkpointed_trail(6)
    path = checkpoint_path()
    stored = json.loads(path.read_text())
    stored["sequence"] = 2  # "forget" the newest events
    path.write_text(json.dumps(stored))
    with pytest.raises(CommandError, match="signature does not match"):
        _verify("--checkpoint")
    assert json.loads(path.read_text())["sequence"] == 2  # left as evidence


def test_events_from_before_the_key_are_sealed_by_the_first_keyed_one(tamper, settings):
    """The migration path: events written before the chain was keyed keep their SHA-256
    links; the first keyed event covers their last hash."""
    _append(3)
    events = list(AuditEvent.objects.order_by("sequence"))
    _rewrite(tamper, events, link=_plain_sha256)  # what an old installation holds
    out = _verify()
    assert "3 events predate the keyed chain and no keyed event seals them yet" in out
    _append(1, start=3)
    assert "the keyed event #4 seals them" in _verify("--checkpoint")
    # Rewriting the old part now breaks the keyed link that sealed it.
    events = list(AuditEvent.objects.order_by("sequence"))[:3]
    events[0].data = {"i": 999}
    _rewrite(tamper, events, link=_plain_sha256)
    with pytest.raises(CommandError, match="event #4"):
        _verify()


def test_a_rotated_key_keeps_the_old_events_verifiable(settings):
    _append(2)
    old = settings.AUDIT_CHAIN_KEY
    settings.AUDIT_CHAIN_KEY = "a-new-audit-chain-key-after-rotation-0123456789"
    _append(2, start=2)
    with pytest.raises(CommandError, match="event #1: it names key"):
        _verify()
    settings.AUDIT_CHAIN_RETIRED_KEYS = [old]
    assert "intact: 4 events" in _verify()
    assert len({e.key_id for e in AuditEvent.objects.all()}) == 2


def test_the_nightly_verification_logs_the_head_and_writes_the_checkpoint(caplog):
    from controlplane.audit.services import verify_trail

    _append(3)
    with caplog.at_level("INFO", logger="controlplane.audit.services"):
        verdict, previous = verify_trail(advance_checkpoint=True)
    assert verdict.intact and previous is None
    head = AuditEvent.objects.get(sequence=3)
    assert f"head #3 {head.hash}" in caplog.text
    stored = json.loads(checkpoint_path().read_text())
    assert (stored["sequence"], stored["hash"]) == (3, head.hash)
    assert keys.current_key().secret.decode() not in checkpoint_path().read_text()


def test_postgresql_refuses_update_and_delete_on_the_audit_table(postgres):
    _append(3)
    for statement in (
        f"UPDATE {TABLE} SET action = 'forged' WHERE sequence = 2",
        f"DELETE FROM {TABLE} WHERE sequence = 3",
        f"DELETE FROM {TABLE} WHERE false",  # refused even when it matches nothing
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement)
    assert AuditEvent.objects.count() == 3
    assert not AuditEvent.objects.filter(action="forged").exists()
    _verify()
