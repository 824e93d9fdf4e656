"""Notices: stored from the apps' hooks, read in the inbox, mailed by each person's choice."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from controlplane.audit.services import record_event
from controlplane.notifications import registry
from controlplane.notifications.models import EmailMode, Notice, OngoingCondition, Preference

log = logging.getLogger(__name__)


def on_audit_events(sender, events, **kwargs):
    """Turn the events of one audit write into notices, in the same transaction: each hook
    gets the write's events it listens to at once (one for ``record_event``, thousands for a
    bulk append), and every draft is delivered in one go. A hook that fails is logged and
    skipped: a notice never undoes the change it reports."""
    drafts = []
    for hook, hooked in registry.hooks_for_events(events):
        try:
            with transaction.atomic():
                drafts.extend(hook(hooked) or ())
        except Exception:  # noqa: BLE001 - a notice must never break the service it follows
            log.exception("notice hook %s failed for %s", hook.__name__, hooked[0].action)
    deliver(drafts)


def preference_of(user) -> Preference:
    pref = Preference.objects.filter(user=user).first()
    return pref or Preference(user=user)


def deliver(drafts) -> int:
    """Store one notice per recipient and key (repeats are ignored; muted kinds skipped) and
    send the immediate mails once the transaction commits. Returns how many were new."""
    if not drafts:
        return 0
    users = {u.pk: u for d in drafts for u in d.recipients}
    prefs = {p.user_id: p for p in Preference.objects.filter(user_id__in=list(users))}
    muted = {user_id: set(p.muted) for user_id, p in prefs.items()}
    rows = []
    for draft in drafts:
        key = draft.key or f"{draft.kind}:{draft.url}:{draft.title}"
        for user in {u.pk: u for u in draft.recipients}.values():
            if not user.is_active or draft.kind in muted.get(user.pk, ()):
                continue
            rows.append(
                Notice(
                    recipient=user,
                    kind=draft.kind,
                    title=draft.title[:200],
                    body=draft.body,
                    url=draft.url,
                    region=draft.region,
                    key=key[:200],
                )
            )
    before = Notice.objects.count()
    Notice.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    created = Notice.objects.count() - before
    wants_mail_now = any(
        row.recipient_id in prefs and prefs[row.recipient_id].email == EmailMode.IMMEDIATE
        for row in rows
    )
    if created and wants_mail_now:  # the daily digest and "off" need no task now
        transaction.on_commit(_queue_immediate_mail)
    return created


def _queue_immediate_mail():
    from controlplane.notifications import tasks

    try:
        tasks.send_immediate.delay()
    except Exception:  # noqa: BLE001 - the broker being down delays mail; the sweep sends it
        log.warning("could not queue notice mail; the next sweep sends it", exc_info=True)


def _absolute(url: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{url}" if url.startswith("/") else url


def _mail(user, subject: str, text: str) -> bool:
    if not user.email:
        return False
    send_mail(
        subject=f"[Sovereignty control plane] {subject}",
        message=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[user.email],
    )
    return True


def _notice_text(notice: Notice) -> str:
    lines = [notice.title]
    if notice.body:
        lines += ["", notice.body]
    if notice.url:
        lines += ["", _absolute(notice.url)]
    return "\n".join(lines)


def send_immediate() -> int:
    """Mail every unsent notice of people who want each at once. Returns mails sent."""
    sent = 0
    with transaction.atomic():
        pending = (
            Notice.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(
                emailed_at__isnull=True, recipient__notice_preference__email=EmailMode.IMMEDIATE
            )
            .select_related("recipient")
            .order_by("pk")
        )
        for notice in pending:
            sent += _mail(notice.recipient, notice.title, _notice_text(notice))
            notice.emailed_at = timezone.now()
            notice.save(update_fields=["emailed_at"])
    return sent


def send_digests(*, now=None) -> int:
    """Once a day per person: one mail listing their unsent notices (the default choice)."""
    now = now or timezone.now()
    if now.hour < settings.NOTIFY_DIGEST_HOUR:
        return 0
    today = now.date()
    sent = 0
    pending = (
        Notice.objects.filter(emailed_at__isnull=True)
        .exclude(recipient__notice_preference__email__in=[EmailMode.IMMEDIATE, EmailMode.OFF])
        .select_related("recipient")
        .order_by("recipient_id", "created_at")
    )
    by_user: dict = {}
    for notice in pending:
        by_user.setdefault(notice.recipient, []).append(notice)
    for user, notices in by_user.items():
        with transaction.atomic():
            pref, _ = Preference.objects.select_for_update().get_or_create(user=user)
            if pref.last_digest_on == today:
                continue
            text = "\n\n".join(f"- {_notice_text(n)}" for n in notices)
            inbox = _absolute("/inbox/")
            subject = f"{len(notices)} notice(s) for {today.isoformat()}"
            sent += _mail(user, subject, f"Since your last digest:\n\n{text}\n\nInbox: {inbox}")
            Notice.objects.filter(pk__in=[n.pk for n in notices]).update(emailed_at=now)
            pref.last_digest_on = today
            pref.save(update_fields=["last_digest_on"])
    return sent


def run_periodic_checks(*, now=None) -> int:
    """Run every app's periodic hook and deliver what they find."""
    now = now or timezone.now()
    drafts = []
    for hook in registry.periodic_hooks():
        try:
            with transaction.atomic():
                drafts.extend(hook(now) or ())
        except Exception:  # noqa: BLE001 - one failing check never stops the others
            log.exception("periodic notice hook %s failed", hook.__name__)
    with transaction.atomic():
        return deliver(drafts)


def lasting(conditions: dict, *, scope: str, now, after: timedelta) -> list:
    """Of ``conditions`` ({key: thing}) that hold now, the things that have held for at least
    ``after`` and were not notified yet. Keys under ``scope`` that no longer hold are
    forgotten, so the condition coming back later counts from then."""
    with transaction.atomic():
        OngoingCondition.objects.filter(key__startswith=scope).exclude(
            key__in=list(conditions)
        ).delete()
        known = {
            c.key: c
            for c in OngoingCondition.objects.select_for_update().filter(key__in=list(conditions))
        }
        due = []
        for key, thing in conditions.items():
            condition = known.get(key)
            if condition is None:
                OngoingCondition.objects.create(key=key, since=now)
            elif condition.notified_at is None and now - condition.since >= after:
                condition.notified_at = now
                condition.save(update_fields=["notified_at"])
                due.append(thing)
        return due


def notice_mark_read(*, user, notices=None) -> int:
    """Mark the given notices of ``user`` (or all of them) read. Returns how many changed."""
    qs = Notice.objects.filter(recipient=user, read_at__isnull=True)
    if notices is not None:
        qs = qs.filter(pk__in=[n if isinstance(n, int) else n.pk for n in notices])
    return qs.update(read_at=timezone.now())


def preference_set(*, user, email: str, muted: list[str]) -> Preference:
    unknown = sorted(set(muted) - set(registry.KINDS))
    if unknown:
        from django.core.exceptions import ValidationError

        raise ValidationError({"muted": f"Unknown notice kinds: {', '.join(unknown)}."})
    with transaction.atomic():
        pref, _ = Preference.objects.select_for_update().get_or_create(user=user)
        before = {"email": pref.email, "muted": list(pref.muted)}
        pref.email = email
        pref.muted = sorted(set(muted))
        pref.full_clean()
        pref.save()
        record_event(
            actor=user,
            action="notifications.preference_changed",
            obj=user,
            data={"before": before, "after": {"email": pref.email, "muted": pref.muted}},
        )
    return pref
