"""This app's settings, with their defaults (settings.py may override each one)."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings


def _get(name, default):
    return getattr(settings, name, default)


def key_dir() -> Path:
    """Online keys (targets, snapshot, timestamp, regions): read by web and worker processes."""
    return Path(_get("TUF_KEY_DIR", None) or Path(_get("VAR_DIR", Path("var"))) / "keys")


def root_key_dir() -> Path:
    """Offline root keys: present only where ``manage.py bundle_keys`` signs root metadata."""
    return Path(_get("TUF_ROOT_KEY_DIR", None) or key_dir() / "root")


def trusted_root_file() -> Path:
    """The current root metadata, public: what a new agent is configured to trust."""
    return key_dir() / "root.json"


def root_threshold() -> int:
    return _get("TUF_ROOT_THRESHOLD", 1)


def root_ttl() -> timedelta:
    return timedelta(days=_get("TUF_ROOT_EXPIRY_DAYS", 365))


def targets_ttl() -> timedelta:
    return timedelta(days=_get("TUF_TARGETS_EXPIRY_DAYS", 90))


def snapshot_ttl() -> timedelta:
    return timedelta(days=_get("TUF_SNAPSHOT_EXPIRY_DAYS", 7))


def timestamp_ttl() -> timedelta:
    return timedelta(seconds=_get("TUF_TIMESTAMP_EXPIRY_SECONDS", 86400))


def timestamp_resign_after() -> timedelta:
    """A timestamp older than this is re-signed (new version) on the next poll or beat tick."""
    return timedelta(seconds=_get("TUF_TIMESTAMP_RESIGN_SECONDS", 3600))


def expiry_warning() -> timedelta:
    """Agents whose trusted metadata expires within this window are flagged on the Agents page."""
    return timedelta(hours=_get("AGENT_EXPIRY_WARNING_HOURS", 12))


def bundle_ttl() -> timedelta:
    return timedelta(days=_get("BUNDLE_TTL_DAYS", 7))


def resign_ahead() -> timedelta:
    return timedelta(hours=_get("BUNDLE_RESIGN_AHEAD_HOURS", 48))


def head_cache_seconds() -> int:
    return _get("BUNDLE_HEAD_CACHE_SECONDS", 5)


def agent_auth_cache_seconds() -> int:
    return _get("AGENT_AUTH_CACHE_SECONDS", 300)


def push_enabled() -> bool:
    return _get("BUNDLE_PUSH_ENABLED", True)


def push_max_attempts() -> int:
    return _get("BUNDLE_PUSH_MAX_ATTEMPTS", 8)


def push_timeout() -> float:
    return _get("BUNDLE_PUSH_TIMEOUT", 5.0)


def metrics_default_k() -> int:
    return _get("METRICS_DEFAULT_K", 20)
