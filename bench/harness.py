"""A throw-away control plane on gunicorn for the HTTP benchmarks (poll.py, load.py,
metrics_ingest.py).

* PostgreSQL when ``DATABASE_URL`` names one: the bench creates its own database next to it
  (``<name>_bench_<pid>``) and drops it afterwards; otherwise SQLite in a temporary directory.
* Redis when ``REDIS_URL`` is set, under a key prefix of its own (deleted afterwards);
  otherwise each process's local memory. Celery's broker is in memory: nothing the bench
  triggers reaches a real worker.
* gunicorn serves the real URLconf plus one bare Django view, ``/api/bench/bare`` (same
  middleware, no database, no cache): the baseline every ratio is measured against.

The WSGI side is at the bottom: gunicorn imports this module as ``harness:application``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
BARE_PATH = "/api/bench/bare"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _admin_connection(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password or None,
        dbname="postgres",
        autocommit=True,
    )


@contextlib.contextmanager
def throwaway_control_plane(label: str):
    """Yields ``(env, description)``: the environment of a migrated, seeded control plane."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
    env = {
        **os.environ,
        "CONTROLPLANE_VAR_DIR": str(tmp),
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "AUDIT_CHAIN_KEY": "bench-only-audit-chain-key-0123456789abcdefghijklmnopqrstuv",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "BUNDLE_PUSH_ENABLED": "0",
        "CELERY_BROKER_URL": "memory://",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        "PYTHONWARNINGS": "ignore::UserWarning",  # whitenoise: no collected static files here
    }
    (tmp / "static").mkdir()
    database_url = os.environ.get("DATABASE_URL", "")
    database = None
    if database_url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(database_url)
        database = f"{parts.path.lstrip('/')}_bench_{os.getpid()}"
        with _admin_connection(database_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}"')
            conn.execute(f'CREATE DATABASE "{database}"')
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{database}"))
    else:
        env.pop("DATABASE_URL", None)
    prefix = f"bench{os.getpid()}"
    if env.get("REDIS_URL"):
        env["CACHE_KEY_PREFIX"] = prefix
    description = (
        f"{'PostgreSQL' if database else 'SQLite'} + "
        f"{'Redis' if env.get('REDIS_URL') else 'local-memory cache'}"
    )
    try:
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True)
        subprocess.run([*manage, "seed_demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        yield env, description
    finally:
        if env.get("REDIS_URL"):
            with contextlib.suppress(Exception):
                import redis

                client = redis.Redis.from_url(env["REDIS_URL"])
                for key in client.scan_iter(match=f"{prefix}:*", count=1000):
                    client.delete(key)
        if database:
            with contextlib.suppress(Exception), _admin_connection(database_url) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)


def run_django(env: dict, code: str, *args: str) -> str:
    """Run ``code`` in a Django process of the bench's control plane; returns its stdout."""
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); exec(open(0).read())", *args],
        input=code,
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout


# The gunicorn master of each port a bench has started (worker_pids reads it).
_masters: dict[int, int] = {}


def worker_pids(port: int) -> list[int]:
    """The worker processes of the gunicorn that ``gunicorn()`` started on ``port``."""
    master = _masters[port]
    try:
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    except OSError:
        return []


@contextlib.contextmanager
def gunicorn(env: dict, *, workers: int, extra_env: dict | None = None, port: int = 0):
    """gunicorn (sync workers, as deployed) on ``port`` (default: a free one); yields the port."""
    port = port or free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--pythonpath", str(ROOT / "bench"),
            "harness:application", "-w", str(workers), "-b", f"127.0.0.1:{port}",
            "--log-level", "warning", "--backlog", "2048",
        ],
        env={**env, **(extra_env or {}), "BENCH_WSGI": "1"},
        cwd=ROOT,
    )  # fmt: skip
    _masters[port] = process.pid
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(f"GET {BARE_PATH} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
                    if sock.recv(12)[9:12] == b"200":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.1)
        yield port
    finally:
        _masters.pop(port, None)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


if os.environ.get("BENCH_WSGI") == "1":  # imported by gunicorn as `harness:application`
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    from django.conf import settings

    settings.ROOT_URLCONF = __name__
    import django

    django.setup()
    from django.contrib.auth.decorators import login_not_required
    from django.core.wsgi import get_wsgi_application
    from django.http import HttpResponse
    from django.urls import path

    from controlplane import urls

    @login_not_required
    def bare(request):
        return HttpResponse(b"ok", content_type="text/plain")

    # The real URLconf as it is, with the bare view in front.
    urlpatterns = [path(BARE_PATH.lstrip("/"), bare), *urls.urlpatterns]
    handler400, handler403 = urls.handler400, urls.handler403
    handler404, handler500 = urls.handler404, urls.handler500
    application = get_wsgi_application()
