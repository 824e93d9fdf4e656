"""The shared cache as an accelerator only: every failure is a miss, never an error.

The database is the source of truth for bundles, heads, agent identities and people. Redis may hang,
refuse connections or lose a write; the agent paths then answer from the database. Entries live
a few seconds (``BUNDLE_HEAD_CACHE_SECONDS``), so an invalidation lost while Redis was down is
corrected within that time, and the connection has short timeouts (``REDIS_TIMEOUT_MS``).
"""

import logging
import time
import uuid
from collections.abc import Callable

from django.core.cache import cache

from controlplane.transactions import once_on_commit

log = logging.getLogger(__name__)

# After a failure, the cache is skipped for this long: a frozen Redis costs one timeout per
# process every few seconds, not one per request.
BACKOFF_SECONDS = 5.0
_down_until = 0.0


def _available() -> bool:
    return time.monotonic() >= _down_until


def _failed() -> None:
    global _down_until
    _down_until = time.monotonic() + BACKOFF_SECONDS


def reset() -> None:
    """Forget a remembered failure (tests)."""
    global _down_until
    _down_until = 0.0


def get(key: str, *, unavailable=None):
    """The cached value, ``None`` when absent, ``unavailable`` when the cache failed now or
    within the last ``BACKOFF_SECONDS``."""
    if not _available():
        return unavailable
    try:
        return cache.get(key)
    except Exception as exc:  # noqa: BLE001 - any cache backend error is a miss
        _failed()
        log.warning("cache unavailable, answering from the database: %s", exc)
        return unavailable


def set(key: str, value, timeout: int) -> None:  # noqa: A001 - mirrors the cache API
    if not _available():
        return
    try:
        cache.set(key, value, timeout)
    except Exception as exc:  # noqa: BLE001 - the value is recomputed on the next miss
        _failed()
        log.warning("cache unavailable, value not stored: %s", exc)


def delete(key: str, *, after_commit: bool = False) -> None:
    # Deletes are always tried: skipping one would leave a stale entry on a Redis that is back.
    try:
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001 - the entry expires on its own within seconds
        _failed()
        if after_commit:
            log.error(
                "post-commit cache invalidation of %s failed (the change IS committed; the "
                "stale entry expires within its timeout): %s",
                key,
                exc,
            )
        else:
            log.warning("cache unavailable, %s not deleted: %s", key, exc)


# --------------------------------------------------------------------------- generations
#
# What a process keeps in its own memory (the register, kept panels, people) is valid while a
# *generation* value in the shared cache is the one it was read under. A change sets a new one.


def new_generation(key: str, what: str) -> None:
    """A new value under ``key``: every process reads again what it keeps under the old one."""
    try:
        cache.set(key, uuid.uuid4().hex, None)
    except Exception as exc:  # noqa: BLE001 - each keeper bounds how long it keeps
        log.error("%s generation not changed (the change IS committed): %s", what, exc)


def new_generation_after_commit(key: str, what: str, *, forget: Callable | None = None) -> None:
    """One new generation per transaction, after its commit, however many rows it changed;
    ``forget()`` first, for what this process keeps."""

    def make():
        def new_generation_now():
            if forget is not None:
                forget()
            new_generation(key, what)

        return new_generation_now

    once_on_commit(f"generation:{key}", make)
