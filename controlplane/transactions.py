"""Work that runs once per transaction, after the commit, however often it was asked for."""

from collections.abc import Callable

from django.db import transaction


def pending_on_commit(kind: str) -> Callable | None:
    """The callback of this ``kind`` already waiting for the current transaction's commit.

    Any callback still queued may be joined. Django drops a callback when a savepoint open at
    its registration rolls back; a savepoint that was released can no longer roll back on its
    own, and one still open is an ancestor of the caller, whose change would roll back with
    it. So joining never lets a rollback swallow a later change; at worst a change rolled back
    alone leaves a harmless extra rebuild.
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    for _savepoints, callback, *_ in connection.run_on_commit:
        if getattr(callback, "on_commit_kind", None) == kind:
            return callback
    return None


def once_on_commit(
    kind: str, make_callback: Callable[[], Callable], join: Callable | None = None
) -> None:
    """Join the pending callback of ``kind`` or register a new one. ``join(callback)`` adds
    the caller's part (a region to publish, say) before the callback can run: outside a
    transaction it runs at once."""
    callback = pending_on_commit(kind)
    if callback is None:
        callback = make_callback()
        callback.on_commit_kind = kind
        if join is not None:
            join(callback)
        transaction.on_commit(callback)
    elif join is not None:
        join(callback)
