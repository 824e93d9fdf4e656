"""Many agents polling an unchanged repository through real gunicorn: TUF's timestamp fetch
against a bare view.

    python bench/poll.py [--agents 200] [--concurrency 32] [--seconds 8] [--workers 2]

It builds a throw-away control plane (SQLite in a temporary directory unless DATABASE_URL is
set; local-memory cache unless REDIS_URL is set), seeds the demo estate, enrolls ``--agents``
agents, and starts gunicorn on this module, which serves the real URLconf plus one bare Django
view (``/api/bench/bare``, same middleware, no database, no cache). Load comes from several
client processes, each agent fetching ``/api/v1/agent/tuf/timestamp.json`` with its own token
(what a TUF client does on every refresh; when it is unchanged, nothing else follows). Both
paths are measured in alternating rounds in the same run; the result is the ratio of their
throughput (target: timestamp poll >= 0.9 x bare view) and the p99 latency of each.
"""

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if os.environ.get("BENCH_POLL_WSGI") == "1":  # imported by gunicorn as `poll:application`
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    from django.conf import settings

    settings.ROOT_URLCONF = __name__
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.http import HttpResponse
    from django.urls import include, path

    def bare(request):
        return HttpResponse(b"ok", content_type="text/plain")

    urlpatterns = [path("api/bench/bare", bare), path("", include("controlplane.urls"))]
    application = get_wsgi_application()


SETUP = """
import json, sys
from controlplane.distribution import services
from regions.models import Region
region = Region.objects.get(slug="eu-central")
services.publish_region(region=region)
n, interval = int(sys.argv[1]), int(sys.argv[2])
tokens = [
    services.agent_enroll(region=region, name=f"bench-{i}", poll_interval=interval)[1]
    for i in range(n)
]
print(json.dumps({"tokens": tokens}))
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, raw: bytes) -> tuple[int, float, bool]:
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    elapsed = time.perf_counter() - started
    response = b"".join(chunks)
    status = int(response[9:12]) if response[:5] == b"HTTP/" else 0
    fresh = b'"_type":"timestamp"' in response
    return status, elapsed, fresh


def _client(args) -> dict:
    port, requests, seconds, threads = args
    import threading

    results = {"latencies": [], "statuses": {}, "fresh": 0}
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def loop():
        rng = random.Random()
        local, statuses, fresh = [], {}, 0
        while time.perf_counter() < stop_at:
            status, elapsed, has_fresh = _request(port, rng.choice(requests))
            local.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1
            fresh += has_fresh
        with lock:
            results["latencies"].extend(local)
            results["fresh"] += fresh
            for k, v in statuses.items():
                results["statuses"][k] = results["statuses"].get(k, 0) + v

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return results


def measure(port, requests, *, seconds, concurrency, processes) -> dict:
    per_process = max(1, concurrency // processes)
    with multiprocessing.Pool(processes) as pool:
        started = time.perf_counter()
        parts = pool.map(_client, [(port, requests, seconds, per_process)] * processes)
        wall = time.perf_counter() - started
    latencies = sorted(x for p in parts for x in p["latencies"])
    statuses: dict = {}
    for p in parts:
        for k, v in p["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    return {
        "requests": len(latencies),
        "rps": len(latencies) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "statuses": statuses,
        "fresh": sum(p["fresh"] for p in parts),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--poll-interval", type=int, default=30, help="agents' poll interval (s)")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--clients", type=int, default=2, help="load generator processes")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-poll-"))
    env = {
        **os.environ,
        "CONTROLPLANE_VAR_DIR": str(tmp),
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "AUDIT_CHAIN_KEY": "bench-only-audit-chain-key-0123456789abcdefghijklmnopqrstuv",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "BUNDLE_PUSH_ENABLED": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    python = sys.executable
    manage = [python, str(ROOT / "manage.py")]
    print(
        f"setting up in {tmp} ({'DATABASE_URL' in env and 'PostgreSQL' or 'SQLite'}, "
        f"{'Redis' if env.get('REDIS_URL') else 'local-memory'} cache)",
        flush=True,
    )
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "seed_demo"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    out = subprocess.run(
        [
            python,
            "-c",
            "import django; django.setup(); exec(open(0).read())",
            str(args.agents),
            str(args.poll_interval),
        ],
        input=SETUP,
        env={**env, "DJANGO_SETTINGS_MODULE": "controlplane.settings"},
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    setup = json.loads(out.strip().splitlines()[-1])

    port = _free_port()
    gunicorn = subprocess.Popen(
        [
            python, "-m", "gunicorn", "--pythonpath", str(ROOT / "bench"), "poll:application",
            "-w", str(args.workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
            "--backlog", "2048",
        ],
        env={**env, "BENCH_POLL_WSGI": "1"},
        cwd=ROOT,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                _request(port, b"GET /api/bench/bare HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                break
            except OSError:
                time.sleep(0.1)
        bare = [b"GET /api/bench/bare HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"]
        polls = [
            (
                "GET /api/v1/agent/tuf/timestamp.json HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {token}\r\n\r\n"
            ).encode()
            for token in setup["tokens"]
        ]
        opts = {
            "seconds": args.seconds,
            "concurrency": args.concurrency,
            "processes": args.clients,
        }
        measure(port, polls, **{**opts, "seconds": 2})  # warm caches in every worker
        measure(port, bare, **{**opts, "seconds": 1})
        runs = {"bare": [], "poll": []}
        for _ in range(args.rounds):
            runs["bare"].append(measure(port, bare, **opts))
            runs["poll"].append(measure(port, polls, **opts))
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)

    def total(name):
        rs = runs[name]
        return {
            "rps": sum(r["rps"] for r in rs) / len(rs),
            "p99_ms": max(r["p99_ms"] for r in rs),
            "p50_ms": statistics.median(r["p50_ms"] for r in rs),
            "requests": sum(r["requests"] for r in rs),
            "statuses": {k: sum(r["statuses"].get(k, 0) for r in rs) for k in rs[0]["statuses"]},
            "fresh": sum(r["fresh"] for r in rs),
        }

    b, p = total("bare"), total("poll")
    ratio = p["rps"] / b["rps"]
    print(
        f"agents={args.agents} concurrency={args.concurrency} gunicorn workers={args.workers} "
        f"rounds={args.rounds} x {args.seconds:.0f}s"
    )
    print(
        f"bare Django view : {b['rps']:8.0f} req/s  p50 {b['p50_ms']:.2f} ms  "
        f"p99 {b['p99_ms']:.2f} ms  statuses {b['statuses']}"
    )
    print(
        f"timestamp poll   : {p['rps']:8.0f} req/s  p50 {p['p50_ms']:.2f} ms  "
        f"p99 {p['p99_ms']:.2f} ms  statuses {p['statuses']}  timestamps {p['fresh']}"
    )
    print(f"ratio poll / bare: {ratio:.2f}  (target >= 0.9)")
    ok = set(p["statuses"]) == {200} and p["fresh"] == p["requests"]
    if not ok:
        print("FAIL: every poll must answer 200 with the signed timestamp", file=sys.stderr)
    return 0 if ok and ratio >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
