"""Settings for the control plane: one module, driven by the environment.

Embedded defaults (SQLite and Celery's filesystem broker under ``var/``, a local
memory cache) let a newcomer run everything with nothing installed. Set
``DATABASE_URL`` and ``REDIS_URL`` to run on PostgreSQL and Redis.
See docs/configuration.md for every variable.
"""

import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from controlplane.env import (
    check_redis_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CONTROLPLANE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE), "
            "or DJANGO_DEBUG=1 for a development run."
        )
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must name this server's host names when DEBUG is off."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The audit chain's HMAC key (controlplane/audit/keys.py): never in the database, so someone who
# can write the audit table still cannot forge a link. Its own key, not SECRET_KEY, so rotating
# SECRET_KEY leaves the trail verifiable. Keys retired by a rotation stay here for verification.
AUDIT_CHAIN_KEY = env_str("AUDIT_CHAIN_KEY")
if not AUDIT_CHAIN_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "AUDIT_CHAIN_KEY is not set. Set AUDIT_CHAIN_KEY (or AUDIT_CHAIN_KEY_FILE) to a long "
            "random value kept outside the database, or DJANGO_DEBUG=1 for a development run."
        )
    AUDIT_CHAIN_KEY = "development-only-audit-chain-key-never-use-in-production-0123456789"
AUDIT_CHAIN_RETIRED_KEYS = env_list("AUDIT_CHAIN_RETIRED_KEYS", [])
for _name, _key in [("AUDIT_CHAIN_KEY", AUDIT_CHAIN_KEY)] + [
    ("AUDIT_CHAIN_RETIRED_KEYS", key) for key in AUDIT_CHAIN_RETIRED_KEYS
]:
    if len(_key) < 32:
        raise ImproperlyConfigured(f"{_name}: a key must be at least 32 characters long.")
# The nightly verification's signed record of the head it verified: keep it where the database's
# administrators cannot write (docs/configuration.md, "The audit trail").
AUDIT_CHECKPOINT_FILE = env_str("AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoint.json"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "django_filters",
    "rest_framework",
    "knox",
    "axes",
    "csp",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "controlplane.audit",
    "controlplane.api",
    "controlplane.web",
    "regions",
    "controlplane.transfers",
    "controlplane.modelregistry",  # before distribution: its demo publishes the seeded state
    "controlplane.metrics",  # before distribution: its demo's epsilon is in the first bundles
    "controlplane.routing",  # before distribution: its demo publishes the seeded routes
    "controlplane.distribution",
    "controlplane.notifications",
    "controlplane.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's AuthenticationMiddleware, keeping people per process (controlplane/people.py).
    "controlplane.people.PeopleMiddleware",
    "controlplane.web.middleware.RefuseNulMiddleware",
    "controlplane.web.middleware.LoginRequiredMiddleware",
    "controlplane.audit.context.ActingUserMiddleware",
    "controlplane.web.middleware.AuditorsReadOnlyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused by the lockout into its answer (controlplane.web.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "controlplane.urls"
WSGI_APPLICATION = "controlplane.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "controlplane.web.context_processors.navigation",
                "controlplane.notifications.context_processors.unread_notices",
            ],
        },
    },
]

DATABASES = {
    "default": parse_database_url(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'controlplane.sqlite3'}")
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes (web, worker, beat) share the file: wait instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
# Widgets render with the project's templates too (templates/web/widgets/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    check_redis_url("REDIS_URL", REDIS_URL)
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "cp"),
            # The cache only accelerates: a Redis that hangs must fail fast, and the agent
            # paths then answer from the database (controlplane/shared_cache.py).
            "OPTIONS": {
                "socket_connect_timeout": env_int("REDIS_TIMEOUT_MS", 500, minimum=1) / 1000,
                "socket_timeout": env_int("REDIS_TIMEOUT_MS", 500, minimum=1) / 1000,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in of a locked-out user name and client, right password or not.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_RAISE_403 = False

# --- Sign-in lockout (django-axes): the login page and the API token endpoint alike ---
# After LOGIN_FAILURE_LIMIT failures for one user name from one client address, that pair is
# refused (429), right password or not, for LOGIN_LOCKOUT_MINUTES after the last failure.
# Keyed on the pair, so a stranger cannot lock a DPO out from elsewhere by guessing.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "controlplane.web.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "controlplane.web.lockout.client_ip"
# Behind this many reverse proxies, the client is the entry this far from the right of
# X-Forwarded-For (0: the connection's own address, REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# Sign-ins are in the audit trail (controlplane/audit/logins.py); axes keeps only its counters.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
ANONYMOUS_USER_NAME = None  # no guardian anonymous user: every page needs a login

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
# Dates and times look the same on every page: controlplane/formats/en/formats.py.
FORMAT_MODULE_PATH = ["controlplane.formats"]
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "controlplane" / "web" / "static"]
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves static files with DEBUG off (make run, gunicorn). Without a collectstatic
# run it finds them where they live; a deployment runs collectstatic and may turn this off.
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# --- Security: strict by default when DEBUG is off (see docs/configuration.md) ---
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading HSTS is a commitment for every sub-domain that the operator makes, not the code:
# see docs/configuration.md ("Deliberate deploy-check exceptions").
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content Security Policy (django-csp): scripts only from our own static files, never inline
# (no inline <script>, no on...= attributes, no eval; htmx runs from static/). Inline styles
# stay allowed: the server-side SVG charts carry their own <style>, and a style cannot run code.
CONTENT_SECURITY_POLICY = {
    # The agents' API serves JSON and TUF metadata to programs, never to a browser: its polls
    # skip building the header.
    "EXCLUDE_URL_PREFIXES": ["/api/v1/agent/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- REST API ---
REST_FRAMEWORK = {
    # The token class comes first: its WWW-Authenticate challenge makes an anonymous call a
    # 401 (DRF answers 403 when the first class offers no challenge, as sessions do).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["controlplane.api.permissions.PeopleOnly"],
    "DEFAULT_FILTER_BACKENDS": ["controlplane.api.filters.ListFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "controlplane.api.pagination.Pagination",
    # Size, depth, list length, NUL and number limits of every API body: controlplane/api/parsers.py
    "DEFAULT_PARSER_CLASSES": [
        "controlplane.api.parsers.JSONParser",
        "controlplane.api.parsers.FormParser",
        "controlplane.api.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "controlplane.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}
# People's API tokens (controlplane/api/tokens.py): stored as SHA-512 digests, expiring.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 30, minimum=1)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "TOKEN_PREFIX": "cpt_",  # recognisable by secret scanners, like agents' sva_
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Sovereignty control plane API",
    "DESCRIPTION": "Regions, residency, transfers, models and agents. Version 1.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One schema name for a choice set that several fields share.
    "ENUM_NAME_OVERRIDES": {
        "PartyRoleEnum": "controlplane.transfers.models.ROLE_CHOICES",
        "LegalBasisEnum": "controlplane.transfers.models.BASIS_CHOICES",
        "ReportKindEnum": "controlplane.reports.models.ReportKind",
    },
}

# --- Celery ---
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("redis"):
    check_redis_url("CELERY_BROKER_URL", CELERY_BROKER_URL)
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "celery-broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)  # the transport cannot create it
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged when it finished, not when it started: a worker killed mid-task
# leaves it in the queue. A killed pool process is noticed at once (reject_on_worker_lost
# requeues its task); a whole worker killed leaves the message unacknowledged, and Redis
# hands it to another worker after the visibility timeout: minutes, not Redis's default hour.
# Tasks are idempotent (deliveries claim their outbox row), so a second run changes nothing.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 300, minimum=30)
if CELERY_BROKER_URL.startswith("redis"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Each app adds its periodic work here; beat runs it (make run starts beat). Beat drops a tick
# when the broker is down at that minute, so daily work is ticked every hour and runs once a
# day, on the first tick past its hour that finds no record of today's run in the audit trail.
CELERY_BEAT_SCHEDULE: dict = {
    "audit-verify-chain-nightly": {
        "task": "controlplane.audit.tasks.verify_chain",
        "schedule": crontab(minute=17),  # verifies once a day from 03:00 UTC
    },
    "transfers-check-expiries-daily": {
        "task": "controlplane.transfers.tasks.check_expiries",
        "schedule": crontab(minute=5),  # checks once a day from 02:00 UTC
    },
}

# --- Bundles and agents (controlplane.distribution; see docs/agent-protocol.md) ---
# The control plane is a TUF repository. Key files, never the database; `manage.py bundle_keys
# init` creates them for development. Online keys (targets, snapshot, timestamp, one per region)
# live in TUF_KEY_DIR; the root keys in TUF_ROOT_KEY_DIR, which only the machine that runs
# `bundle_keys` needs (keep it offline; web and worker processes never read it).
TUF_KEY_DIR = env_str("TUF_KEY_DIR", str(VAR_DIR / "keys"))
TUF_ROOT_KEY_DIR = env_str("TUF_ROOT_KEY_DIR", str(Path(TUF_KEY_DIR) / "root"))
TUF_ROOT_THRESHOLD = env_int("TUF_ROOT_THRESHOLD", 1, minimum=1)
TUF_ROOT_EXPIRY_DAYS = env_int("TUF_ROOT_EXPIRY_DAYS", 365, minimum=1)
TUF_TARGETS_EXPIRY_DAYS = env_int("TUF_TARGETS_EXPIRY_DAYS", 90, minimum=1)
TUF_SNAPSHOT_EXPIRY_DAYS = env_int("TUF_SNAPSHOT_EXPIRY_DAYS", 7, minimum=1)
# The timestamp is the freshness guarantee: an agent that cannot refresh for this long (a
# control plane unreachable or frozen) stops routing. Re-signed once older than the second.
TUF_TIMESTAMP_EXPIRY_SECONDS = env_int("TUF_TIMESTAMP_EXPIRY_SECONDS", 86400, minimum=60)
TUF_TIMESTAMP_RESIGN_SECONDS = env_int("TUF_TIMESTAMP_RESIGN_SECONDS", 3600, minimum=1)
AGENT_EXPIRY_WARNING_HOURS = env_int("AGENT_EXPIRY_WARNING_HOURS", 12, minimum=1)
if TUF_TIMESTAMP_RESIGN_SECONDS * 2 > TUF_TIMESTAMP_EXPIRY_SECONDS:
    raise ImproperlyConfigured(
        "TUF_TIMESTAMP_RESIGN_SECONDS must be at most half of TUF_TIMESTAMP_EXPIRY_SECONDS, so "
        "agents always see a timestamp with time left."
    )
# A house rule, not the law: a transfer impact assessment without its own end date counts as
# current for this many days (EDPB Recommendations 01/2020 only ask for re-evaluation "at
# appropriate intervals"). The engine says so when it applies it.
TRANSFERS_TIA_VALIDITY_DAYS = env_int("TRANSFERS_TIA_VALIDITY_DAYS", 365, minimum=1)
BUNDLE_TTL_DAYS = env_int("BUNDLE_TTL_DAYS", 7, minimum=1)
BUNDLE_RESIGN_AHEAD_HOURS = env_int("BUNDLE_RESIGN_AHEAD_HOURS", 48, minimum=1)
BUNDLE_PUSH_ENABLED = env_bool("BUNDLE_PUSH_ENABLED", True)
# Per-process caches (no REDIS_URL) must expire soon so every process sees a new version.
# Short on purpose: a lost invalidation (Redis down at commit) is corrected within seconds.
BUNDLE_HEAD_CACHE_SECONDS = env_int("BUNDLE_HEAD_CACHE_SECONDS", 5, minimum=1)
# How long a process trusts an agent's identity without reading the database. A revocation
# reaches every process within a second through the shared cache (the agents' generation);
# this bounds only a change the cache lost, or every process's view without REDIS_URL.
# Longer than agents' poll interval, or nearly every poll would read the database.
AGENT_AUTH_CACHE_SECONDS = env_int("AGENT_AUTH_CACHE_SECONDS", 300, minimum=1)
# `make run` (scripts/run.sh) hands the demo its own addresses, so two copies on one machine
# never talk to each other: the control plane's URL (from PORT) and the demo agents' listen
# ports (free ports, or DEMO_AGENT_PORTS), in the order of distribution.demo.DEMO_AGENTS.
DEMO_CONTROLPLANE_URL = env_str("DEMO_CONTROLPLANE_URL", "http://127.0.0.1:8000")
DEMO_AGENT_PORTS = [
    int(port) for port in env_list("DEMO_AGENT_PORTS", ["8701", "8702"]) if port.isdigit()
]
CELERY_BEAT_SCHEDULE.update(
    {
        "distribution-sweep-deliveries": {
            "task": "controlplane.distribution.tasks.sweep_deliveries",
            "schedule": 30.0,
        },
        "distribution-ensure-bundles-current": {
            "task": "controlplane.distribution.tasks.ensure_bundles_current",
            "schedule": 300.0,
        },
        "distribution-refresh-drift": {
            "task": "controlplane.distribution.tasks.refresh_drift",
            "schedule": 60.0,
        },
    }
)

# --- Metrics (controlplane.metrics; see docs/metrics.md) ---
# Retention per resolution, in days: raw points as agents send them, hourly and daily roll-ups.
METRICS_RETENTION_RAW_DAYS = env_int("METRICS_RETENTION_RAW_DAYS", 14, minimum=1)
METRICS_RETENTION_HOUR_DAYS = env_int("METRICS_RETENTION_HOUR_DAYS", 90, minimum=1)
METRICS_RETENTION_DAY_DAYS = env_int("METRICS_RETENTION_DAY_DAYS", 730, minimum=1)
METRICS_REFUSAL_RETENTION_DAYS = env_int("METRICS_REFUSAL_RETENTION_DAYS", 365, minimum=1)
CELERY_BEAT_SCHEDULE.update(
    {
        "metrics-roll-up": {"task": "controlplane.metrics.tasks.roll_up", "schedule": 60.0},
        "metrics-retention-daily": {
            "task": "controlplane.metrics.tasks.apply_retention",
            "schedule": crontab(hour=3, minute=41),
        },
    }
)
# --- Reports (controlplane.reports; see docs/reports.md) ---
REPORTS_DIR = Path(env_str("REPORTS_DIR", str(VAR_DIR / "reports")))
# The fonts of every PDF: the Debian package fonts-dejavu-core, named by file so that no
# machine substitutes its own fonts.
REPORT_FONT_DIR = Path(env_str("REPORT_FONT_DIR", "/usr/share/fonts/truetype/dejavu"))
REPORT_CHUNK_ROWS = env_int("REPORT_CHUNK_ROWS", 200, minimum=10)
# Processes that render report documents (WeasyPrint uses one core per document); 0 renders in
# the process that generates the report.
REPORT_RENDER_WORKERS = env_int("REPORT_RENDER_WORKERS", min(4, os.cpu_count() or 1), minimum=0)
# How long a render worker may take over one document (a chunk, the front matter, a part of the
# frame); past it the workers are killed and the report fails, instead of hanging for good.
REPORT_RENDER_TIMEOUT_SECONDS = env_int("REPORT_RENDER_TIMEOUT_SECONDS", 300, minimum=1)
CELERY_BEAT_SCHEDULE["reports-monthly-record-of-transfers"] = {
    "task": "controlplane.reports.tasks.monthly_record_of_transfers",
    "schedule": crontab(hour=4, minute=10),  # daily; makes last month's record once
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint and fontTools log every layout step at INFO.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # django-axes logs every successful sign-in's counter reset at INFO.
        "axes": {"level": "WARNING"},
    },
}

# --- Notifications (controlplane.notifications) ---
# Mail through Django's mail framework: SMTP by default (EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER,
# EMAIL_HOST_PASSWORD, EMAIL_USE_TLS); `make run` writes mails as files under var/mail.
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "control-plane@localhost")
# Links in mails point here.
SITE_URL = env_str("SITE_URL", DEMO_CONTROLPLANE_URL)
# An agent out of sync, refusing bundles or silent for this long is reported to its region's DPOs.
NOTIFY_AGENT_TROUBLE_MINUTES = env_int("NOTIFY_AGENT_TROUBLE_MINUTES", 30, minimum=1)
NOTIFY_DIGEST_HOUR = env_int("NOTIFY_DIGEST_HOUR", 7, minimum=0)  # UTC
CELERY_BEAT_SCHEDULE.update(
    {
        "notifications-periodic-checks": {
            "task": "controlplane.notifications.tasks.run_periodic_checks",
            "schedule": 300.0,
        },
        "notifications-daily-digests": {
            "task": "controlplane.notifications.tasks.send_digests",
            "schedule": crontab(minute=30),  # hourly tick; one digest a day, from the hour below
        },
    }
)
