"""The signed-in person of a request, kept per process between their requests.

Every signed-in request needs its person: Django reads the session, then the user, and
``controlplane.permissions`` their roles and region rights; three queries, most of the cost of a
small API call such as the dry run. This process keeps what those queries answered, per session,
and uses it again only while nothing that could change the answer has happened anywhere:

- the *people generation* in the shared cache (Redis) is read on every request, and an entry is
  used only under the generation it was read under;
- a new generation is set after the commit of any change to a person, a group, a permission,
  an object permission (guardian), a membership or a session, and on every sign-out (receivers
  below); this process forgets everything at once, the others on their next request;
- without a shared cache (no ``REDIS_URL``), or when it cannot be read, nothing is kept: the
  person is read from the database, as Django does;
- an entry is never used longer than ``KEPT_SECONDS`` (a session that expires meanwhile counts
  as expired that much later at most).

So a right revoked, an account deactivated, a password changed or a sign-out elsewhere counts
from the next request, as before. tests/foundation/test_kept_people.py checks each of them.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.functional import SimpleLazyObject

from controlplane import shared_cache
from controlplane.permissions import standing_of

log = logging.getLogger(__name__)

GENERATION_KEY = "people:generation"
KEPT_SECONDS = 60.0
_MAX_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class _Kept:
    generation: str
    field_names: tuple[str, ...]
    values: tuple
    standing: object  # controlplane.permissions.Standing (immutable)
    until: float


_kept: dict[str, _Kept] = {}  # session key -> the person it was found to be


def _enabled() -> bool:
    return bool(settings.REDIS_URL)


_UNREADABLE = object()


def _generation():
    """The shared generation: ``None`` when unset, ``_UNREADABLE`` when the cache fails (and
    for a few seconds after, so that a Redis that hangs costs one timeout, not one per request)."""
    return shared_cache.get(GENERATION_KEY, unavailable=_UNREADABLE)


def person_of(request):
    """``request.user``: the person the session belongs to (or ``AnonymousUser``)."""
    key = request.session.session_key
    if not key or not _enabled() or connection.in_atomic_block:
        return auth.get_user(request)
    generation = _generation()
    if generation is _UNREADABLE:
        return auth.get_user(request)
    if generation is None:
        # Unset (a fresh or restarted Redis): start one, keep from the next request.
        forget()
        shared_cache.new_generation(GENERATION_KEY, "people")
        return auth.get_user(request)
    kept = _kept.get(key)
    now = time.monotonic()
    if kept is not None and kept.generation == generation and now < kept.until:
        return _person_from(kept)
    user = auth.get_user(request)
    if user.is_authenticated:
        standing = standing_of(user)
        if len(_kept) >= _MAX_KEPT:
            _kept.clear()
        names = tuple(f.attname for f in user._meta.concrete_fields)
        _kept[key] = _Kept(
            generation,
            names,
            tuple(getattr(user, name) for name in names),
            standing,
            now + KEPT_SECONDS,
        )
    return user


def _person_from(kept: _Kept):
    """A fresh user object per request (nothing a request caches on it reaches another)."""
    user = auth.get_user_model().from_db(connection.alias, kept.field_names, kept.values)
    user._standing = kept.standing
    return user


class PeopleMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware, with ``request.user`` from ``person_of``."""

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: person_of(request))


def forget() -> None:
    """This process forgets every person it keeps (tests; and at once after a change here)."""
    _kept.clear()


def changed(**kwargs) -> None:
    """Signal receiver: who someone is or what they may do changed. This process forgets at
    once; every process after the commit (one new generation per transaction). A sign-out is
    one: it deletes its session."""
    forget()
    shared_cache.new_generation_after_commit(GENERATION_KEY, "people", forget=forget)


def connect_signals() -> None:
    from django.contrib.auth.models import Group, Permission
    from django.contrib.sessions.models import Session
    from guardian.models import GroupObjectPermission, UserObjectPermission

    User = auth.get_user_model()
    for model in (User, Group, Permission, UserObjectPermission, GroupObjectPermission):
        uid = f"people.{model._meta.label}"
        post_save.connect(changed, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(changed, sender=model, dispatch_uid=f"{uid}.delete")
    post_delete.connect(changed, sender=Session, dispatch_uid="people.session.delete")
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(changed, sender=through, dispatch_uid=f"people.{through.__name__}")
