"""Metric ingestion through the real endpoint (gunicorn, PostgreSQL) against a raw COPY.

    DATABASE_URL=postgres://... python bench/metrics_ingest.py [--batches 40] [--workers 2]

A throw-away control plane (bench/harness.py: its own database next to the one in
DATABASE_URL, dropped at the end, migrated and seeded with the demo estate; Redis under a key
prefix of its own when REDIS_URL is set). It approves extra model versions in eu-central so that
one batch can hold 500 distinct cells, enrolls an agent and starts gunicorn. Then it posts
``--batches`` batches of 500 points (one period each, as an agent would) through
``POST /api/v1/agent/metrics`` with ``--clients`` concurrent senders, and, in the same run,
``COPY``s the same number of rows into the same table. It prints points per second for both,
the ratio (target >= 0.3), the Python memory one batch needs in the ingestion service
(tracemalloc peak) and the gunicorn workers' resident memory per batch.
Without PostgreSQL it says so and exits 0.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from harness import gunicorn, run_django, throwaway_control_plane, worker_pids

ITEMS = 500

SETUP = r"""
import json, sys, tracemalloc
from datetime import UTC, datetime, timedelta
from django.db import transaction
from controlplane.distribution import services
from controlplane.metrics import selectors
from controlplane.metrics.services import metrics_ingest
from controlplane.modelregistry.models import DeploymentApproval, MLModel, ModelVersion
from regions.models import Region

region = Region.objects.get(slug="eu-central")
from django.contrib.auth import get_user_model
engineer = get_user_model().objects.get(username="ml-engineer")
# Bench data only: 120 approved versions so the catalogue has 500+ distinct cells.
model = MLModel.objects.create(name="bench-model", purpose="bench", owner_team="bench")
with transaction.atomic():
    for i in range(120):
        version = ModelVersion.objects.create(
            model=model, version=f"1.{i}.0", digest="sha256:" + f"{i:064x}", framework="bench",
            training_mode="synthetic", contains_personal_data=False,
        )
        DeploymentApproval.objects.create(
            version=version, model=model, region=region, status="approved",
            requested_by=engineer,
        )
agent, token = services.agent_enroll(region=region, name="bench")
catalogue = selectors.region_catalogue(region)
cells = []
for entry in catalogue:
    for dim_set in entry["dimension_sets"]:
        if not dim_set:
            cells.append((entry, {}))
        elif dim_set == ["model_version"]:
            for value in entry["dimensions"]["model_version"]:
                cells.append((entry, {"model_version": value}))
def item(entry, dims):
    count = 50
    value = 50.0 if entry["kind"] == "counter" else (entry["minimum"] + entry["maximum"]) / 4
    return {"metric": entry["name"], "dimensions": dims, "value": value, "count": count}
items = [item(e, d) for e, d in cells[:500]]
assert len(items) == 500, len(items)

# Memory of one batch in the ingestion service itself (parse, check, store).
now = datetime.now(UTC).replace(second=0, microsecond=0)
probe = {"idempotency_key": "mb-memoryprobeaaaaaaaaaaaaa", "period_seconds": 60,
         "period_start": (now - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), "items": items}
body = json.dumps(probe).encode()
principal = services.authenticate_agent(token)
metrics_ingest(principal=principal, body=body)  # warm caches (catalogue, detector)
probe["idempotency_key"] = "mb-memoryprobebbbbbbbbbbbbb"
probe["period_start"] = (now - timedelta(days=2, minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
body = json.dumps(probe).encode()
tracemalloc.start()
result = metrics_ingest(principal=principal, body=body)
_, peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
assert result.status == 201, result.body
print(json.dumps({"token": token, "items": items, "region_id": region.pk,
                  "peak_bytes": peak, "body_bytes": len(body)}))
"""

COPY = r"""
import json, sys, time
from datetime import UTC, datetime, timedelta
from django.db import connection
from controlplane.metrics.models import MetricBatch, MetricDefinition
data = json.loads(open(sys.argv[1]).read())
metric_ids = dict(MetricDefinition.objects.values_list("name", "pk"))
now = datetime.now(UTC).replace(second=0, microsecond=0)
batch = MetricBatch.objects.create(
    region_id=data["region_id"], idempotency_key="mb-copybaselineaaaaaaaaaaa", body_digest="-",
    period_start=now - timedelta(days=3), period_seconds=60, point_count=0, received_at=now,
)
rows = []
for n in range(data["batches"]):
    start = now - timedelta(days=3, minutes=n + 1)
    for it in data["items"]:
        dims = it["dimensions"]
        key = "|".join(f"{k}={dims[k]}" for k in sorted(dims))
        rows.append((data["region_id"], metric_ids[it["metric"]], start, 60, key,
                     json.dumps(dims), dims.get("model_version", ""), it["value"], it["count"],
                     batch.pk))
columns = ("region_id, metric_id, period_start, period_seconds, dims_key, dimensions, "
           "model_version, value, count, batch_id")
started = time.perf_counter()
with connection.cursor() as cursor:
    with cursor.connection.cursor().copy(
        f"COPY metrics_metricpoint ({columns}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)
    cursor.connection.commit()
elapsed = time.perf_counter() - started
print(json.dumps({"rows": len(rows), "seconds": elapsed}))
"""


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (default: any free)")
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        print("metrics_ingest: needs PostgreSQL (set DATABASE_URL=postgres://...); skipped")
        return 0
    try:
        return _bench(args)
    except subprocess.CalledProcessError as failed:
        print((failed.stderr or "")[-3000:], file=sys.stderr)
        return 1


def _bench(args) -> int:
    with throwaway_control_plane("metrics") as (env, backends):
        print(f"set up: {backends}", flush=True)
        env = {**env, "LOG_LEVEL": "ERROR"}
        setup = json.loads(run_django(env, SETUP).strip().splitlines()[-1])
        with gunicorn(env, workers=args.workers, port=args.port) as port:
            url = f"http://127.0.0.1:{port}/api/v1/agent/metrics"
            now = int(time.time()) // 60 * 60
            bodies = []
            for n in range(args.batches + args.workers * 2):
                start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60 * (n + 1)))
                key = "mb-bench" + "".join(chr(97 + (n // 26**i) % 26) for i in range(6))
                batch = {
                    "idempotency_key": key,
                    "period_start": start,
                    "period_seconds": 60,
                    "items": setup["items"],
                }
                bodies.append(json.dumps(batch).encode())
            warm, timed = bodies[: args.workers * 2], bodies[args.workers * 2 :]

            def post(body: bytes) -> int:
                request = urllib.request.Request(
                    url,
                    data=body,
                    method="POST",
                    headers={
                        "Authorization": f"Bearer {setup['token']}",
                        "Content-Type": "application/json",
                    },
                )
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
                    return response.status

            for body in warm:  # each worker loads its catalogue and detector caches
                assert post(body) == 201
            workers = worker_pids(port)
            rss_before = sum(_rss_kib(p) for p in workers)

            queue = list(timed)
            lock = threading.Lock()
            statuses: list[int] = []

            def sender():
                while True:
                    with lock:
                        if not queue:
                            return
                        body = queue.pop()
                    statuses.append(post(body))

            started = time.perf_counter()
            threads = [threading.Thread(target=sender) for _ in range(args.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            endpoint_seconds = time.perf_counter() - started
            rss_after = sum(_rss_kib(p) for p in workers)
            assert statuses.count(201) == len(timed), statuses
            points = len(timed) * ITEMS

            data = Path(env["CONTROLPLANE_VAR_DIR"]) / "bench_copy_baseline.json"
            data.write_text(
                json.dumps(
                    {
                        "items": setup["items"],
                        "batches": len(timed),
                        "region_id": setup["region_id"],
                    }
                )
            )
            copy = json.loads(run_django(env, COPY, str(data)).strip().splitlines()[-1])

    endpoint_rate = points / endpoint_seconds
    copy_rate = copy["rows"] / copy["seconds"]
    ratio = endpoint_rate / copy_rate
    print(
        f"endpoint: {points} points in {len(timed)} batches of {ITEMS}, "
        f"{args.clients} clients, {args.workers} gunicorn workers: "
        f"{endpoint_seconds:.2f} s, {endpoint_rate:,.0f} points/s, "
        f"{endpoint_seconds / len(timed) * 1000:.0f} ms per batch (wall, concurrent)"
    )
    print(f"raw COPY: {copy['rows']} rows in {copy['seconds']:.3f} s, {copy_rate:,.0f} rows/s")
    print(f"ratio endpoint / COPY: {ratio:.2f} (target >= 0.3)")
    print(
        f"memory per batch: {setup['peak_bytes'] / 1024:,.0f} KiB Python peak in the "
        f"ingestion service for a {setup['body_bytes'] / 1024:,.0f} KiB body; gunicorn "
        f"workers' RSS {rss_before / 1024:.1f} -> {rss_after / 1024:.1f} MiB over "
        f"{len(timed)} batches ({(rss_after - rss_before) / len(timed):+.0f} KiB/batch)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
