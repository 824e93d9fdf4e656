"""Notices: who is told what, once, in the inbox and by e-mail, by their own choice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from controlplane.audit.actors import Actor
from controlplane.audit.services import record_event
from controlplane.notifications import registry, services
from controlplane.notifications.models import EmailMode, Notice, Preference
from controlplane.transfers import services as transfers
from regions.models import Agent

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def eager_celery():
    from controlplane.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _notices(user, kind=None):
    qs = Notice.objects.filter(recipient=user)
    return list(qs.filter(kind=kind) if kind else qs)


def test_a_submitted_request_tells_the_source_regions_dpos_and_nobody_else(
    world, new_request, django_capture_on_commit_callbacks, eager_celery
):
    e = world.estate
    Preference.objects.create(user=e.dpo_eu, email=EmailMode.IMMEDIATE)
    with django_capture_on_commit_callbacks(execute=True):
        tr = new_request()
    [notice] = _notices(e.dpo_eu, "awaiting_decision")
    assert str(tr) in notice.title and notice.url == tr.get_absolute_url()
    assert notice.region == "eu-central"
    assert _notices(e.dpo_uk) == [] and _notices(e.dpo_us) == []
    assert _notices(e.requester, "awaiting_decision") == []  # four eyes: not their own
    [message] = mail.outbox
    assert message.to == [e.dpo_eu.email] and str(tr) in message.subject
    assert f"/transfers/{tr.pk}/" in message.body
    assert Notice.objects.get(pk=notice.pk).emailed_at is not None


def test_daily_digest_is_one_mail_once_a_day(world, new_request, settings):
    e = world.estate
    for _ in range(3):
        new_request()
    assert mail.outbox == []  # the default is the daily digest, not a flood
    morning = timezone.now().replace(hour=settings.NOTIFY_DIGEST_HOUR, minute=40)
    assert services.send_digests(now=morning) >= 1
    mine = [m for m in mail.outbox if m.to == [e.dpo_eu.email]]
    assert len(mine) == 1 and "3 notice(s)" in mine[0].subject
    assert services.send_digests(now=morning + timedelta(minutes=30)) == 0
    before_hour = morning.replace(hour=settings.NOTIFY_DIGEST_HOUR - 1) + timedelta(days=1)
    new_request()
    assert services.send_digests(now=before_hour) == 0


def test_a_muted_kind_is_not_stored_and_off_sends_no_mail(world, new_request):
    e = world.estate
    services.preference_set(user=e.dpo_eu, email=EmailMode.OFF, muted=["awaiting_decision"])
    new_request()
    assert _notices(e.dpo_eu) == []
    services.preference_set(user=e.dpo_eu, email=EmailMode.OFF, muted=[])
    new_request()
    assert len(_notices(e.dpo_eu)) == 1
    services.send_digests(now=timezone.now().replace(hour=23))
    services.send_immediate()
    assert not [m for m in mail.outbox if e.dpo_eu.email in m.to]


def test_a_suspended_transfer_tells_its_dpos_and_requester(world, new_request):
    e = world.estate
    tr = new_request()
    transfers.transfer_request_approve(request=tr, by=e.dpo_eu)
    transfers.mechanism_end(
        mechanism=world.scc, by=e.dpo_eu, status="revoked", reason="contract ended", ends_on=None
    )
    tr.refresh_from_db()
    assert tr.status == "suspended"
    for person in (e.dpo_eu, e.requester):
        [notice] = _notices(person, "transfer_suspended")
        assert "suspended" in notice.title and notice.url == tr.get_absolute_url()
    assert _notices(e.dpo_uk, "transfer_suspended") == []


def test_a_mechanism_ending_soon_tells_the_dpos_of_regions_relying_on_it(world, new_request):
    e = world.estate
    tr = new_request()
    transfers.transfer_request_approve(request=tr, by=e.dpo_eu)
    record_event(
        actor=Actor.system("tests"),
        action="mechanism.expiry_warning",
        obj=world.scc,
        data={"what": "ends", "date": "2030-01-01"},
    )
    [notice] = _notices(e.dpo_eu, "mechanism_ending")
    assert world.scc.name in notice.title and "1 transfer(s)" in notice.body
    assert _notices(e.dpo_us, "mechanism_ending") == []


def test_a_withdrawal_notice_reaches_the_people_it_names(world):
    e = world.estate
    record_event(
        actor=Actor.system("tests"),
        action="deployment.withdrawal_notice",
        obj=e.eu_central,
        data={"region": "eu-central", "recipients": ["dpo-eu"], "withdrawn": ["DA-1"]},
    )
    [notice] = _notices(e.dpo_eu, "deployment_withdrawn")
    assert "eu-central" in notice.title and "DA-1" in notice.body


def test_an_agent_in_trouble_is_reported_once_after_the_set_time(world, settings):
    from controlplane.distribution import services as distribution

    e = world.estate
    settings.NOTIFY_AGENT_TROUBLE_MINUTES = 30
    agent, _ = distribution.agent_enroll(region=e.eu_central, name="edge-1", callback_url="")
    now = timezone.now()
    Agent.objects.filter(pk=agent.pk).update(
        last_seen=now, last_error_code="SIGNATURE", last_error="bad signature"
    )
    assert services.run_periodic_checks(now=now) == 0  # noticed, not yet long enough
    Agent.objects.filter(pk=agent.pk).update(last_seen=now + timedelta(minutes=31))
    assert services.run_periodic_checks(now=now + timedelta(minutes=31)) >= 1
    [notice] = _notices(e.dpo_eu, "agent_trouble")
    assert "edge-1" in notice.title and "SIGNATURE" in notice.body
    Agent.objects.filter(pk=agent.pk).update(last_seen=now + timedelta(minutes=40))
    assert services.run_periodic_checks(now=now + timedelta(minutes=40)) == 0
    assert _notices(e.dpo_uk, "agent_trouble") == []


def test_a_failing_hook_never_undoes_the_change_it_reports(world, new_request):
    @registry.on("transfer.submitted")
    def broken(events):
        raise RuntimeError("boom")

    try:
        tr = new_request()
    finally:
        registry._event_hooks["transfer.submitted"].remove(broken)
    assert tr.status == "submitted"
    assert len(_notices(world.estate.dpo_eu)) == 1  # the other hook still ran


def test_inbox_shows_the_unread_count_and_marks_read(world, new_request, client):
    e = world.estate
    new_request()
    new_request()
    client.force_login(e.dpo_eu)
    page = client.get("/transfers/").content.decode()
    assert 'data-testid="unread-count">2<' in page
    inbox = client.get("/inbox/?state=unread").content.decode()
    assert inbox.count("data-notice=") == 2
    client.post("/inbox/read/", {"all": "1"})
    assert 'data-testid="unread-count"' not in client.get("/inbox/").content.decode()
    client.force_login(e.dpo_uk)
    assert "data-notice=" not in client.get("/inbox/").content.decode()
    assert client.post("/inbox/settings/", {"email": "sometimes"}).status_code == 400


def _suspend_in_one_write(requests):
    """What ending a mechanism does: one bulk audit append of many suspensions."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from controlplane.audit.services import record_events
    from controlplane.transfers.models import TransferRequest

    TransferRequest.objects.filter(pk__in=[tr.pk for tr in requests]).update(status="suspended")
    with CaptureQueriesContext(connection) as queries:
        record_events(
            actor=Actor.system("test"),
            events=[
                {"action": "transfer.suspended", "obj": tr, "data": {"reason": "Ended."}}
                for tr in requests
            ],
        )
    return len(queries)


def test_a_bulk_append_costs_the_hooks_the_same_queries_for_3_or_12_events(world, new_request):
    """Ending a mechanism records thousands of suspensions in one write: the hooks read what
    they need for all of them at once (it was about 8 queries per event: 10,000 dependents
    spent most of a minute in notices)."""
    few = [new_request(purpose=f"Few {i}") for i in range(3)]
    many = [new_request(purpose=f"Many {i}") for i in range(12)]
    assert _suspend_in_one_write(few) == _suspend_in_one_write(many)


def test_many_transfers_ended_at_once_are_one_notice_per_person_not_one_each(world, new_request):
    e = world.estate
    few = [new_request(purpose=f"Few {i}") for i in range(3)]
    many = [new_request(purpose=f"Many {i}") for i in range(12)]
    _suspend_in_one_write(few)
    _suspend_in_one_write(many)
    for person in (e.dpo_eu, e.requester):
        notices = _notices(person, "transfer_suspended")
        assert len(notices) == 4, [n.title for n in notices]  # three one by one, one summary
        titles = sorted(n.title for n in notices)
        assert all(any(str(tr) in t for t in titles) for tr in few)
        summary = next(n for n in notices if "12" in n.title)
        assert "were suspended at once" in summary.title and "status=suspended" in summary.url
    assert _notices(e.dpo_uk, "transfer_suspended") == []
