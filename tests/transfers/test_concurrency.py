"""Two DPOs deciding on one request at the same moment, on PostgreSQL with real connections."""

import threading
import time

import pytest
from django.db import connection

from controlplane.audit.models import AuditEvent
from controlplane.errors import ConflictError
from controlplane.transfers import services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_dpos_deciding_at_once_keep_exactly_one_decision(
    postgres, new_request, world, make_user, monkeypatch
):
    tr = new_request()
    second_dpo = make_user(
        "dpo", view=[world.estate.eu_central], approve_transfers=[world.estate.eu_central]
    )
    # Make each decision slow right after it has read the row, so that both are in flight
    # together: without the row lock both would read "submitted" and both would decide.
    check = services._check_decider

    def check_slowly(*args, **kwargs):
        check(*args, **kwargs)
        time.sleep(0.5)

    monkeypatch.setattr(services, "_check_decider", check_slowly)
    barrier = threading.Barrier(2)
    outcomes = {}

    def decide(name, action):
        try:
            barrier.wait(timeout=10)
            action()
            outcomes[name] = "decided"
        except ConflictError as error:
            outcomes[name] = f"conflict: {error}"
        except Exception as error:  # noqa: BLE001 - reported in the assertion below
            outcomes[name] = f"error: {error!r}"
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=decide,
            args=(
                "approve",
                lambda: services.transfer_request_approve(request=tr, by=world.estate.dpo_eu),
            ),
        ),
        threading.Thread(
            target=decide,
            args=(
                "reject",
                lambda: services.transfer_request_reject(
                    request=tr, by=second_dpo, reason="Not convinced."
                ),
            ),
        ),
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    elapsed = time.monotonic() - started

    assert sorted(v.split(":")[0] for v in outcomes.values()) == ["conflict", "decided"], outcomes
    loser = next(v for v in outcomes.values() if v.startswith("conflict"))
    assert "already" in loser and "your decision was not recorded" in loser
    tr.refresh_from_db()
    winner = "approved" if outcomes["approve"] == "decided" else "rejected"
    assert tr.status == winner
    assert (tr.decided_by == world.estate.dpo_eu) == (winner == "approved")
    decided_events = AuditEvent.objects.filter(
        object_type="transfers.transferrequest",
        object_id=str(tr.pk),
        action__in=["transfer.approved", "transfer.rejected"],
    )
    assert decided_events.count() == 1
    # The loser waited for the winner's lock (0.5 s each) instead of racing past it.
    assert elapsed >= 1.0
