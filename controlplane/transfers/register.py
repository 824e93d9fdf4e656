"""The transfer register as the dry run reads it, built once per change and kept per process.

``POST /api/v1/transfers/evaluate`` needs every mechanism (as the engine's ``MechanismSet``),
the countries, data categories and regions its facts name. Reading them from the database on
every call cost 10 of its 15 queries and most of its time, for data that changes a few times a
day. So each process keeps one ``Register`` and rebuilds it when the *register generation*
changes: a change to a mechanism (its categories and members included), a party, a country, a
jurisdiction, a data category or a region sets a new generation in the shared cache after its
commit (signal receivers below), which each process reads at most once a second.

Limits, on purpose:

- Only the dry run reads it. Decisions (submit, approve, re-evaluation when a mechanism ends)
  evaluate against the database inside their own transaction, as before.
- Inside a transaction (``atomic``) the register is built from the database and not kept: what
  a transaction sees may be rolled back.
- A change in this process counts at once; in another, within a second with Redis, and after
  ``MAX_AGE_SECONDS`` at most without a shared cache (no ``REDIS_URL``: per-process memory).
  A cache that fails counts as a change (the register is rebuilt from the database).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection
from django.db.models.signals import m2m_changed, post_delete, post_save

from controlplane import shared_cache
from controlplane.transfers import policy as p

log = logging.getLogger(__name__)

GENERATION_KEY = "transfers:register:generation"
MAX_AGE_SECONDS = 30.0
CHECK_SECONDS = 1.0


@dataclass(frozen=True)
class Register:
    mechanisms: p.MechanismSet
    mechanism_keys: frozenset[str]
    countries: dict  # ISO code -> Country, jurisdiction loaded
    categories: dict  # key -> DataCategory
    regions: dict  # slug -> Region, country (with its jurisdiction) and jurisdiction loaded


def build() -> Register:
    from controlplane.transfers.models import Mechanism
    from regions.models import Country, DataCategory, Region

    mechanisms = list(Mechanism.objects.with_relations())
    return Register(
        mechanisms=p.MechanismSet(m.to_policy() for m in mechanisms),
        mechanism_keys=frozenset(m.key for m in mechanisms),
        countries={c.code: c for c in Country.objects.select_related("jurisdiction")},
        categories={c.key: c for c in DataCategory.objects.all()},
        regions={
            r.slug: r
            for r in Region.objects.select_related("country__jurisdiction", "jurisdiction")
        },
    )


class _Memo:
    register: Register | None = None
    generation: object = None
    built_at: float = 0.0
    checked_at: float = -1e9  # the shared generation is read at most once a second


_memo = _Memo()  # one per process (threads share it; a race only builds twice)


def _shared_generation():
    try:
        return cache.get(GENERATION_KEY)
    except Exception as exc:  # noqa: BLE001 - a cache that fails: rebuild from the database
        log.warning("register generation unreadable, rebuilding from the database: %s", exc)
        return object()  # equal to nothing held


def current() -> Register:
    """The register as committed; from this process's memory while nothing changed."""
    if connection.in_atomic_block:
        return build()
    now = time.monotonic()
    if _memo.register is not None and now - _memo.checked_at < CHECK_SECONDS:
        return _memo.register
    generation = _shared_generation()  # read before building: a change meanwhile rebuilds
    if (
        _memo.register is None
        or generation != _memo.generation
        or now - _memo.built_at >= MAX_AGE_SECONDS
    ):
        _memo.register, _memo.generation, _memo.built_at = build(), generation, now
    _memo.checked_at = now
    return _memo.register


def forget() -> None:
    """Rebuild on this process's next read (tests; and at once after a change here)."""
    _memo.register, _memo.checked_at = None, -1e9


def changed(**kwargs) -> None:
    """Signal receiver: the register changed. This process forgets at once; every process
    after the commit (one new generation per transaction, however many rows it changed)."""
    forget()
    shared_cache.new_generation_after_commit(GENERATION_KEY, "register", forget=forget)


def connect_signals() -> None:
    from controlplane.transfers.models import Mechanism, Party
    from regions.models import Country, DataCategory, Jurisdiction, Region

    for model in (Mechanism, Party, Country, Jurisdiction, DataCategory, Region):
        uid = f"transfers.register.{model.__name__}"
        post_save.connect(changed, sender=model, dispatch_uid=f"{uid}.save")
        post_delete.connect(changed, sender=model, dispatch_uid=f"{uid}.delete")
    for through in (Mechanism.categories.through, Mechanism.members.through):
        m2m_changed.connect(changed, sender=through, dispatch_uid=f"transfers.register.{through}")
