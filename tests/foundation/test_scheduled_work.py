"""Scheduled work survives an outage (issue 13.10): daily jobs are ticked hourly and run once a
day, catching up a missed tick; a killed worker's task comes back within minutes."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.conf import settings

from controlplane.audit import tasks as audit_tasks
from controlplane.audit.models import AuditEvent
from controlplane.transfers import tasks as transfer_tasks

pytestmark = pytest.mark.django_db
DAY = datetime(2026, 11, 26, tzinfo=UTC)


def at(hour, minute=5, day=0):
    return DAY.replace(day=26 + day, hour=hour, minute=minute)


@pytest.mark.parametrize("name", ["audit-verify-chain-nightly", "transfers-check-expiries-daily"])
def test_daily_jobs_are_ticked_every_hour_so_a_lost_tick_is_not_a_lost_day(name):
    schedule = settings.CELERY_BEAT_SCHEDULE[name]["schedule"]
    assert schedule.hour == set(range(24)), f"{name} runs only at {sorted(schedule.hour)}"


def test_the_daily_check_runs_on_the_first_tick_after_a_missed_one_and_only_once(estate):
    runs = lambda: AuditEvent.objects.filter(action="transfers.daily_check").count()  # noqa: E731
    with time_machine.travel(at(1), tick=False):
        assert transfer_tasks.check_expiries() is None  # before 02:00: not due
    # The 02:05 tick was lost (broker down); the 03:05 tick catches up.
    with time_machine.travel(at(3), tick=False):
        summary = transfer_tasks.check_expiries()
    assert summary is not None and set(summary) >= {"expired_mechanisms", "expired_requests"}
    assert runs() == 1
    with time_machine.travel(at(4), tick=False):
        assert transfer_tasks.check_expiries() is None
    with time_machine.travel(at(23, 59), tick=False):
        assert transfer_tasks.check_expiries() is None
    assert runs() == 1
    with time_machine.travel(at(2, day=1), tick=False):
        assert transfer_tasks.check_expiries() is not None
    assert runs() == 2


def test_the_nightly_verification_catches_up_and_records_its_verdict(estate):
    with time_machine.travel(at(2, 17), tick=False):
        assert audit_tasks.verify_chain() is None
    with time_machine.travel(at(9, 17), tick=False):  # the broker was down all night
        assert audit_tasks.verify_chain() is True
        assert audit_tasks.verify_chain() is None
    [event] = AuditEvent.objects.filter(action="audit.chain_verified")
    assert event.data["intact"] is True and event.data["day"] == "2026-11-26"
    assert event.data["events_checked"] > 0


def test_a_killed_workers_task_is_redelivered_within_minutes_not_an_hour():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_VISIBILITY_TIMEOUT <= 600
    if settings.CELERY_BROKER_URL.startswith("redis"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        assert options["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT
    from controlplane.celery import app

    assert app.conf.task_reject_on_worker_lost is True and app.conf.task_acks_late is True
