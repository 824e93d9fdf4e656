"""A day at the control plane under load: agents and DPOs together, on gunicorn (locust).

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/load.py
        [--agents 1000] [--poll-interval 30] [--dpos 10] [--seconds 60] [--workers 2]

Needs locust (``pip install -e '.[bench]'``; pinned in pyproject.toml). A throw-away control plane
(bench/harness.py: PostgreSQL and Redis as in production when DATABASE_URL and REDIS_URL are
set; the output says which) with the demo estate and ``--agents`` enrolled agents in three
regions, on gunicorn (sync workers, as deployed). Locust runs headless, started by this script,
in two parts:

1. **The mixed day** (``--seconds``), after every agent has polled twice (a control plane in its
   steady state, not just restarted): every agent fetches TUF's ``timestamp.json`` once per
   poll interval (with jitter), sends a metrics batch every 10th poll (every 5 minutes, the
   agent's default period) and reports its status every 20th (real agents report on change);
   meanwhile ``--dpos`` signed-in DPOs (1-3 s between clicks) open the dashboard, the transfer
   queue, and ask the evaluate API for a dry run. Per endpoint: requests per second, p50 and
   p99 latency, errors. Targets: no error at all, dashboard p99 under 100 ms.
2. **Capacity** (``--capacity-seconds`` each, same server, same run): closed-loop clients with
   no pause against the bare Django view, the evaluate API and the dashboard, bare view first
   and last. Target: evaluate >= 0.3 x bare view.

Locust and the server share this machine's cores: the load average is printed with each part.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DASHBOARD, QUEUE, EVALUATE = "/", "/transfers/", "/api/v1/transfers/evaluate"
TIMESTAMP, STATUS, METRICS = (
    "/api/v1/agent/tuf/timestamp.json",
    "/api/v1/agent/status",
    "/api/v1/agent/metrics",
)
REGIONS = ("eu-central", "us-east", "uk-south")
DPOS = {"dpo-eu": "eu-central", "dpo-eu-2": "eu-central", "dpo-uk": "uk-south", "dpo-us": "us-east"}

SETUP = r"""
import json, secrets, sys
from django.contrib.auth import get_user_model
from django.test import Client
from controlplane.distribution import services
from controlplane.distribution.models import ConfigBundle
from controlplane.metrics import selectors as metrics
from regions.agents import hash_token, new_token
from regions.models import Agent, Region

n, interval = int(sys.argv[1]), int(sys.argv[2])
regions, dpos = json.loads(sys.argv[3]), json.loads(sys.argv[4])
out = {"agents": [], "bundles": {}, "metrics": {}, "dpos": []}
for slug in regions:
    region = Region.objects.get(slug=slug)
    services.publish_region(region=region)
    bundle = ConfigBundle.objects.filter(region=region).latest()
    out["bundles"][slug] = {"version": bundle.version, "digest": bundle.digest}
    items = []
    for entry in metrics.region_catalogue(region):
        if [] in entry["dimension_sets"] and len(items) < 5:
            value = 50.0 if entry["kind"] == "counter" else (entry["minimum"] + entry["maximum"]) / 4
            items.append({"metric": entry["name"], "dimensions": {}, "value": value,
                          "count": max(50, region.metrics_k)})
    out["metrics"][slug] = items
    tokens = [new_token() for _ in range(n // len(regions) + (regions.index(slug) < n % len(regions)))]
    Agent.objects.bulk_create(
        Agent(region=region, name=f"load-{slug}-{i}", poll_interval=interval,
              token_hash=hash_token(t), token_hint=t[:10])
        for i, t in enumerate(tokens)
    )
    out["agents"] += [{"token": t, "region": slug} for t in tokens]
users = get_user_model().objects
for username, region in dpos.items():
    client = Client()
    client.force_login(users.get(username=username))
    out["dpos"].append({"session": client.cookies["sessionid"].value, "region": region})
out["csrf"] = secrets.token_hex(16)  # a CSRF secret of 32 characters, cookie and header alike
print(json.dumps(out))
"""


def evaluate_body(region: str) -> dict:
    """The dry run of the issue's example: an eu-central transfer to a US processor."""
    return {
        "source_region": region,
        "destination_country": "US",
        "exporter": {"name": "Acme GmbH", "country": "DE", "role": "controller"},
        "importer": {
            "name": "Cloudy Inc",
            "country": "US",
            "role": "processor",
            "certifications": ["EU-US-DPF"],
        },
        "data_categories": ["user.contact.email"],
        "frequency": "recurring",
        "on": "2026-12-01",
    }


def dpo_warm_up(config) -> list[bytes]:
    """Each DPO's dashboard, queue and dry run, as raw HTTP/1.0 requests."""
    requests = []
    for dpo in config["dpos"]:
        head = (
            f"Host: 127.0.0.1\r\nCookie: sessionid={dpo['session']}; csrftoken={config['csrf']}"
            f"\r\nX-CSRFToken: {config['csrf']}\r\n"
        )
        body = json.dumps(evaluate_body(dpo["region"])).encode()
        requests += [
            f"GET {DASHBOARD} HTTP/1.0\r\n{head}\r\n".encode(),
            f"GET {QUEUE} HTTP/1.0\r\n{head}\r\n".encode(),
            f"POST {EVALUATE} HTTP/1.0\r\n{head}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body,
        ]
    return requests


# --------------------------------------------------------------------------- locust's side

if os.environ.get("BENCH_LOAD_ROLE") == "locust":  # imported by locust, never by main()
    from locust import FastHttpUser, between, constant, task

    CONFIG = json.loads(Path(os.environ["BENCH_LOAD_CONFIG"]).read_text())
    INTERVAL = CONFIG["poll_interval"]
    _agents = itertools.cycle(CONFIG["agents"])
    _dpos = itertools.cycle(CONFIG["dpos"])
    # Each metrics batch covers its own minute of the last day (periods must have ended).
    _minutes = itertools.count(1)
    _now = datetime.now(UTC).replace(second=0, microsecond=0)

    def _cookies(dpo) -> dict:
        return {
            "Cookie": f"sessionid={dpo['session']}; csrftoken={CONFIG['csrf']}",
            "X-CSRFToken": CONFIG["csrf"],
        }

    class RegionalAgent(FastHttpUser):
        fixed_count = len(CONFIG["agents"])  # locust shares users by weight otherwise
        wait_time = between(0.75 * INTERVAL, 1.25 * INTERVAL)

        def on_start(self):
            agent = next(_agents)
            self.auth = {"Authorization": f"Bearer {agent['token']}"}
            self.region = agent["region"]
            self.polls = random.randrange(60)  # agents are at different points of their day
            time.sleep(random.uniform(0, INTERVAL))  # (gevent-patched) spread the first polls

        @task
        def poll(self):
            self.client.get(TIMESTAMP, headers=self.auth, name="agent: timestamp.json")
            self.polls += 1
            if self.polls % 20 == 0:
                bundle = CONFIG["bundles"][self.region]
                body = {
                    "region": self.region,
                    "applied_version": bundle["version"],
                    "applied_digest": bundle["digest"],
                    "agent_version": "load-1.0",
                    "last_error": None,
                }
                self.client.post(STATUS, json=body, headers=self.auth, name="agent: status")
            if self.polls % 10 == 0:
                minute = next(_minutes)
                start = _now - timedelta(days=1, minutes=minute)
                body = {
                    "idempotency_key": f"load-{os.getpid()}-{minute}",
                    "period_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "period_seconds": 60,
                    "items": CONFIG["metrics"][self.region],
                }
                self.client.post(METRICS, json=body, headers=self.auth, name="agent: metrics")

    class DPO(FastHttpUser):
        fixed_count = CONFIG["dpo_users"]
        wait_time = between(1, 3)

        def on_start(self):
            dpo = next(_dpos)
            self.headers = _cookies(dpo)
            self.body = evaluate_body(dpo["region"])

        @task(2)
        def dashboard(self):
            self.client.get(DASHBOARD, headers=self.headers, name="dpo: dashboard")

        @task(1)
        def queue(self):
            self.client.get(QUEUE, headers=self.headers, name="dpo: transfer queue")

        @task(2)
        def evaluate(self):
            self.client.post(
                EVALUATE, json=self.body, headers=self.headers, name="dpo: evaluate API"
            )

    class Capacity(FastHttpUser):
        """No pause: as many requests as the server answers (CAPACITY_TARGET names which)."""

        wait_time = constant(0)

        def on_start(self):
            dpo = next(_dpos)
            self.headers = _cookies(dpo)
            self.body = evaluate_body(dpo["region"])
            self.target = os.environ["CAPACITY_TARGET"]

        @task
        def hit(self):
            if self.target == "bare":
                self.client.get("/api/bench/bare", name="bare Django view")
            elif self.target == "evaluate":
                self.client.post(
                    EVALUATE, json=self.body, headers=self.headers, name="evaluate API"
                )
            else:
                self.client.get(DASHBOARD, headers=self.headers, name="dashboard")


# --------------------------------------------------------------------------- the run


def run_locust(port, config_path, classes, *, users, spawn_rate, seconds, extra_env=None):
    """One headless locust run; returns its per-endpoint rows and the load average after it."""
    with tempfile.TemporaryDirectory(prefix="bench-load-csv-") as folder:
        prefix = Path(folder) / "run"
        subprocess.run(
            [
                sys.executable, "-m", "locust", "-f", __file__, "--headless",
                "--host", f"http://127.0.0.1:{port}", "-u", str(users), "-r", str(spawn_rate),
                "-t", f"{seconds}s", "--stop-timeout", "5", "--csv", str(prefix),
                "--only-summary", "--loglevel", "WARNING", *classes,
            ],
            env={
                **os.environ,
                "BENCH_LOAD_ROLE": "locust",
                "BENCH_LOAD_CONFIG": str(config_path),
                **(extra_env or {}),
            },
            check=False,  # locust exits 1 on any failure: the rows say which
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        with open(f"{prefix}_stats.csv", newline="") as f:
            rows = [r for r in csv.DictReader(f) if r["Name"] != "Aggregated"]
    from harness import load_average

    return rows, load_average()


def _row(r) -> str:
    return (
        f"  {r['Type']:4} {r['Name']:26} {float(r['Requests/s']):8.1f} req/s  "
        f"p50 {float(r['50%']):6.0f} ms  p99 {float(r['99%']):6.0f} ms  "
        f"requests {int(r['Request Count']):6d}  errors {int(r['Failure Count'])}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--poll-interval", type=int, default=30, help="seconds between polls")
    parser.add_argument("--dpos", type=int, default=10, help="signed-in DPOs browsing")
    parser.add_argument("--seconds", type=int, default=60, help="length of the mixed day")
    parser.add_argument("--capacity-seconds", type=int, default=12)
    parser.add_argument("--capacity-users", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    args = parser.parse_args()

    import importlib.util

    if importlib.util.find_spec("locust") is None:
        print("locust is not installed: pip install -e '.[bench]' (or make bench)")
        return 2
    sys.path.insert(0, str(HERE))
    from harness import gunicorn, load_average, run_django, throwaway_control_plane

    failures = []
    with throwaway_control_plane("load") as (env, backends):
        print(f"set up: {backends}", flush=True)
        out = run_django(
            env,
            SETUP,
            str(args.agents),
            str(args.poll_interval),
            json.dumps(REGIONS),
            json.dumps(DPOS),
        )
        config = {
            **json.loads(out.splitlines()[-1]),
            "poll_interval": args.poll_interval,
            "dpo_users": args.dpos,
        }
        config_folder = tempfile.TemporaryDirectory(prefix="bench-load-")
        config_path = Path(config_folder.name) / "config.json"
        config_path.write_text(json.dumps(config))
        with config_folder, gunicorn(env, workers=args.workers) as port:
            from poll import measure

            polls = [
                (
                    f"GET {TIMESTAMP} HTTP/1.0\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: Bearer {a['token']}\r\n\r\n"
                ).encode()
                for a in config["agents"]
            ]
            measure(port, polls, seconds=120, concurrency=16, processes=2, walks=2)
            # The DPOs' pages, as the agents' polls: served a few times by every worker first
            # (templates compiled, reference data read), then measured.
            warm = measure(
                port, dpo_warm_up(config), seconds=60, concurrency=4, processes=1, walks=3
            )
            if set(warm["statuses"]) != {200}:
                failures.append(f"DPOs' warm-up answered {warm['statuses']}")
            print(
                f"{backends}; gunicorn {args.workers} sync workers; {len(config['agents'])} "
                f"agents polling every {args.poll_interval} s; {args.dpos} DPOs; "
                f"{load_average()} before",
                flush=True,
            )
            mixed, mixed_load = run_locust(
                port,
                config_path,
                ["RegionalAgent", "DPO"],
                users=len(config["agents"]) + args.dpos,
                spawn_rate=200,
                seconds=args.seconds,
            )
            capacity = {}
            for target in ("bare", "evaluate", "dashboard", "bare"):
                rows, load = run_locust(
                    port,
                    config_path,
                    ["Capacity"],
                    users=args.capacity_users,
                    spawn_rate=args.capacity_users,
                    seconds=args.capacity_seconds,
                    extra_env={"CAPACITY_TARGET": target},
                )
                capacity.setdefault(target, []).append((rows[0], load))

    print(f"\n1. The mixed day, {args.seconds} s ({mixed_load} at its end):")
    total = sum(float(r["Requests/s"]) for r in mixed)
    errors = sum(int(r["Failure Count"]) for r in mixed)
    for r in sorted(mixed, key=lambda r: r["Name"]):
        print(_row(r))
    print(f"  all endpoints: {total:.1f} req/s, errors {errors} (target 0)")
    if errors:
        failures.append(f"{errors} errors in the mixed day")
    dashboard = next(r for r in mixed if r["Name"] == "dpo: dashboard")
    p99 = float(dashboard["99%"])
    print(f"  dashboard p99 {p99:.0f} ms (target < 100 ms)")
    if p99 >= 100:
        failures.append(f"dashboard p99 {p99:.0f} ms")

    print(
        f"\n2. Capacity, {args.capacity_users} closed-loop clients, {args.capacity_seconds} s each:"
    )
    for target, runs in capacity.items():
        for row, load in runs:
            print(_row(row) + f"  ({load})")
        if any(int(row["Failure Count"]) for row, _ in runs):
            failures.append(f"errors at capacity on {target}")
    bare = sum(float(r["Requests/s"]) for r, _ in capacity["bare"]) / len(capacity["bare"])
    for target in ("evaluate", "dashboard"):
        rps = float(capacity[target][0][0]["Requests/s"])
        print(f"  {target} / bare view: {rps / bare:.2f}", end="")
        print("  (target >= 0.3)" if target == "evaluate" else "")
    if float(capacity["evaluate"][0][0]["Requests/s"]) / bare < 0.3:
        failures.append("evaluate below 0.3 x bare view")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
