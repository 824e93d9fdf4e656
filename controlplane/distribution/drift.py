"""Desired against applied, per agent: a pure decision, as Argo CD labels applications."""

from datetime import datetime, timedelta

SYNCED, OUT_OF_SYNC, FAILED, UNKNOWN = "synced", "out_of_sync", "failed", "unknown"
STALE_AFTER_INTERVALS = 3


def drift_state(
    *,
    last_seen: datetime | None,
    poll_interval: int,
    applied_digest: str,
    last_error_code: str,
    desired_digest: str | None,
    now: datetime,
) -> str:
    if last_seen is None or now - last_seen > timedelta(
        seconds=STALE_AFTER_INTERVALS * poll_interval
    ):
        return UNKNOWN
    if desired_digest and applied_digest == desired_digest:
        return SYNCED
    if last_error_code:
        return FAILED
    return OUT_OF_SYNC
