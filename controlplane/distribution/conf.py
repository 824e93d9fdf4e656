"""This app's settings, with their defaults (settings.py may override each one)."""

from datetime import timedelta
from pathlib import Path

from django.conf import settings


def _get(name, default):
    return getattr(settings, name, default)


def key_dir() -> Path:
    return Path(_get("VAR_DIR", Path("var"))) / "keys"


def signing_key_file() -> Path:
    return Path(_get("BUNDLE_SIGNING_KEY_FILE", None) or key_dir() / "signing.key")


def keyring_file() -> Path:
    return Path(_get("BUNDLE_KEYRING_FILE", None) or key_dir() / "keyring.json")


def root_key_file() -> Path:
    return Path(_get("BUNDLE_ROOT_KEY_FILE", None) or key_dir() / "root.key")


def root_public_key_file() -> Path:
    return root_key_file().with_suffix(".pub")


def bundle_ttl() -> timedelta:
    return timedelta(days=_get("BUNDLE_TTL_DAYS", 7))


def resign_ahead() -> timedelta:
    return timedelta(hours=_get("BUNDLE_RESIGN_AHEAD_HOURS", 48))


def freshness_ttl() -> timedelta:
    return timedelta(seconds=_get("BUNDLE_FRESHNESS_SECONDS", 600))


def head_cache_seconds() -> int:
    return _get("BUNDLE_HEAD_CACHE_SECONDS", 5)


def agent_auth_cache_seconds() -> int:
    return _get("AGENT_AUTH_CACHE_SECONDS", 30)


def push_enabled() -> bool:
    return _get("BUNDLE_PUSH_ENABLED", True)


def push_max_attempts() -> int:
    return _get("BUNDLE_PUSH_MAX_ATTEMPTS", 8)


def push_timeout() -> float:
    return _get("BUNDLE_PUSH_TIMEOUT", 5.0)


def long_poll_max() -> int:
    return _get("AGENT_LONG_POLL_MAX", 30)


def metrics_default_k() -> int:
    return _get("METRICS_DEFAULT_K", 20)
