"""Settings come from the environment and reject malformed values loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from controlplane.env import env_bool, env_int, env_list, env_str, parse_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "value,expected", [("1", True), ("yes", True), ("ON", True), ("0", False), ("off", False)]
)
def test_boolean_accepts_the_usual_spellings(value, expected):
    assert env_bool("FLAG", False, environ={"FLAG": value}) is expected


@pytest.mark.parametrize("value", ["yse", "2", "enabled", "truee"])
def test_boolean_rejects_anything_else(value):
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG", False, environ={"FLAG": value})


def test_integer_rejects_words_and_values_below_minimum():
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("N", 1, environ={"N": "ten"})
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("N", 1, minimum=0, environ={"N": "-5"})


def test_list_rejects_empty_items():
    assert env_list("HOSTS", [], environ={"HOSTS": "a.example, b.example"}) == [
        "a.example",
        "b.example",
    ]
    with pytest.raises(ImproperlyConfigured, match="empty item"):
        env_list("HOSTS", [], environ={"HOSTS": "a.example,,b.example"})


def test_secret_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    assert env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": str(secret)}) == "from-a-file"
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        env_str("SECRET_KEY", environ={"SECRET_KEY_FILE": str(tmp_path / "missing")})


def test_database_urls():
    pg = parse_database_url("postgres://cp:s%40cret@db.internal:5433/controlplane?sslmode=require")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "cp",
        "s@cret",
        "db.internal",
        "5433",
        "controlplane",
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}
    assert parse_database_url("sqlite:///var/x.db")["NAME"] == "var/x.db"
    for bad in ["mysql://x/y", "postgres://host/", "postgres://host:port/db", "sqlite://"]:
        with pytest.raises(ImproperlyConfigured):
            parse_database_url(bad)


def _settings_in_subprocess(env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "SECRET_KEY",
            "DJANGO_DEBUG",
            "ALLOWED_HOSTS",
            "DATABASE_URL",
            "REDIS_URL",
            "CELERY_BROKER_URL",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
        }
    }
    clean.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_secret_key_is_a_clear_start_up_error_without_debug():
    result = _settings_in_subprocess({"ALLOWED_HOSTS": "cp.example"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_gives_a_development_secret_and_sqlite_default():
    result = _settings_in_subprocess({"DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert "sqlite3" in result.stdout


def test_malformed_values_stop_start_up():
    for env, message in [
        ({"DJANGO_DEBUG": "ture"}, "DJANGO_DEBUG='ture' is not a boolean"),
        ({"DJANGO_DEBUG": "1", "REDIS_URL": "localhost:6379"}, "is not a redis:// URL"),
        ({"DJANGO_DEBUG": "1", "DATABASE_URL": "mongodb://x/y"}, "not supported"),
        ({"SECRET_KEY": "x" * 60}, "ALLOWED_HOSTS must name"),
    ]:
        result = _settings_in_subprocess(env)
        assert result.returncode != 0, env
        assert message in result.stderr, (env, result.stderr[-500:])


def test_the_audit_chain_key_is_required_and_long_without_debug():
    base = {"SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "cp.example"}
    missing = _settings_in_subprocess({**base, "AUDIT_CHAIN_KEY": ""})
    assert missing.returncode != 0 and "AUDIT_CHAIN_KEY is not set" in missing.stderr
    short = _settings_in_subprocess({**base, "AUDIT_CHAIN_KEY": "too-short"})
    assert short.returncode != 0 and "at least 32 characters" in short.stderr
    retired = _settings_in_subprocess(
        {**base, "AUDIT_CHAIN_KEY": "k" * 40, "AUDIT_CHAIN_RETIRED_KEYS": "old"}
    )
    assert "AUDIT_CHAIN_RETIRED_KEYS: a key must be at least 32" in retired.stderr
    assert _settings_in_subprocess({**base, "AUDIT_CHAIN_KEY": "k" * 40}).returncode == 0


def test_check_deploy_is_clean_with_production_values():
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DJANGO_DEBUG",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    env.update({"SECRET_KEY": "k" * 30 + "Q7$w!" + "z" * 30, "ALLOWED_HOSTS": "cp.example.org"})
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # The only silenced check is the one docs/configuration.md explains.
    assert "security.W021" in (ROOT / "docs" / "configuration.md").read_text()


def test_the_suite_hashes_passwords_with_a_fast_hasher():
    """PBKDF2's many iterations are for production; every test that creates a user pays them."""
    from django.contrib.auth.hashers import get_hasher

    assert get_hasher().algorithm == "md5"


def test_production_settings_keep_a_slow_password_hasher():
    from django.conf import global_settings

    import controlplane.settings as production

    assert not hasattr(production, "PASSWORD_HASHERS")
    assert global_settings.PASSWORD_HASHERS[0].endswith("PBKDF2PasswordHasher")
