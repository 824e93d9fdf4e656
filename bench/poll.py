"""Many agents polling an unchanged repository through real gunicorn: TUF's timestamp fetch
against a bare view.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/poll.py
        [--agents 2000] [--poll-interval 1] [--concurrency 32] [--seconds 6] [--workers 2]

A throw-away control plane (bench/harness.py: PostgreSQL and Redis as in production when
DATABASE_URL and REDIS_URL are set, else SQLite and per-process memory; the output says which)
with the demo estate and ``--agents`` enrolled agents, on gunicorn, which serves the real
URLconf plus one bare Django view (same middleware, no database, no cache).

Load comes from several client processes; every simulated agent fetches
``/api/v1/agent/tuf/timestamp.json`` with its own token (what a TUF client does on every
refresh; when it is unchanged, nothing else follows). Each client thread walks its own share of
the agents in turn, so an agent polls again only after all the others of its share: with the
defaults, about every 1.3 s, past its 1-second poll interval, so *every* poll is due a heartbeat,
as in production, where agents poll at their interval. Both paths are measured in alternating
rounds in the same run; the result is the ratio of their throughput (target: timestamp poll >=
0.9 x bare view). At the end it checks that every agent's heartbeat reached the database.
"""

import argparse
import json
import multiprocessing
import statistics
import sys
import threading
import time

from harness import BARE_PATH, gunicorn, load_average, run_django, throwaway_control_plane

SETUP = """
import json, sys
from controlplane.distribution import services
from regions.agents import hash_token, new_token
from regions.models import Agent, Region
region = Region.objects.get(slug="eu-central")
services.publish_region(region=region)
n, interval = int(sys.argv[1]), int(sys.argv[2])
tokens = [new_token() for _ in range(n)]
Agent.objects.bulk_create(
    Agent(region=region, name=f"bench-{i}", poll_interval=interval, token_hash=hash_token(t),
          token_hint=t[:10])
    for i, t in enumerate(tokens)
)
print(json.dumps({"tokens": tokens}))
"""

HEARTBEATS = """
import sys
from datetime import datetime, UTC
from regions.models import Agent
since = datetime.fromtimestamp(float(sys.argv[1]), UTC)
agents = Agent.objects.filter(name__startswith="bench-")
print(agents.filter(last_seen__gte=since).count(), agents.count())
"""


def _request(port: int, raw: bytes, sock_timeout: float = 10) -> tuple[int, float, bool]:
    import socket

    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=sock_timeout) as sock:
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
    port, shares, seconds, walks = args
    results = {"latencies": [], "statuses": {}, "fresh": 0}
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def loop(share):
        local, statuses, fresh, i = [], {}, 0, 0
        while time.perf_counter() < stop_at and (not walks or i < walks * len(share)):
            status, elapsed, has_fresh = _request(port, share[i % len(share)])
            i += 1
            local.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1
            fresh += has_fresh
        with lock:
            results["latencies"].extend(local)
            results["fresh"] += fresh
            for k, v in statuses.items():
                results["statuses"][k] = results["statuses"].get(k, 0) + v

    threads = [threading.Thread(target=loop, args=(share,)) for share in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def measure(port, requests, *, seconds, concurrency, processes, walks=0) -> dict:
    """``concurrency`` threads over ``processes`` processes; each thread walks its own share of
    ``requests`` in turn (a share of the agents, or the one bare request), for ``seconds`` or
    ``walks`` times through its share."""
    shares = [requests[i::concurrency] or requests for i in range(concurrency)]
    per_process = [shares[p::processes] for p in range(processes)]
    with multiprocessing.Pool(processes) as pool:
        started = time.perf_counter()
        parts = pool.map(_client, [(port, s, seconds, walks) for s in per_process])
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
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--poll-interval", type=int, default=1, help="agents' poll interval (s)")
    # Short alternating rounds: a burst of load from elsewhere on the machine hits both paths.
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--clients", type=int, default=2, help="load generator processes")
    args = parser.parse_args()

    with throwaway_control_plane("poll") as (env, backends):
        print(f"set up: {backends}", flush=True)
        setup = json.loads(
            run_django(env, SETUP, str(args.agents), str(args.poll_interval)).splitlines()[-1]
        )
        with gunicorn(env, workers=args.workers) as port:
            bare = [f"GET {BARE_PATH} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode()]
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
            # Warm: every agent polls four times, so every worker has most likely seen it (as
            # in production a few intervals after a restart).
            measure(port, polls, **{**opts, "seconds": 120}, walks=4)
            measure(port, bare, **{**opts, "seconds": 1})
            started = time.time()
            runs = {"bare": [], "poll": []}
            loads = []
            for _ in range(args.rounds):
                runs["bare"].append(measure(port, bare, **opts))
                runs["poll"].append(measure(port, polls, **opts))
                loads.append(load_average())
            time.sleep(1.1)
            for raw in polls[:8]:  # the last second's heartbeats are written by a next poll
                _request(port, raw)
        seen, total = map(int, run_django(env, HEARTBEATS, str(started)).split())

    def total_of(name):
        rs = runs[name]
        return {
            "rps": sum(r["rps"] for r in rs) / len(rs),
            "p99_ms": max(r["p99_ms"] for r in rs),
            "p50_ms": statistics.median(r["p50_ms"] for r in rs),
            "requests": sum(r["requests"] for r in rs),
            "statuses": {k: sum(r["statuses"].get(k, 0) for r in rs) for k in rs[0]["statuses"]},
            "fresh": sum(r["fresh"] for r in rs),
        }

    b, p = total_of("bare"), total_of("poll")
    ratio = p["rps"] / b["rps"]
    print(
        f"{backends}; agents={args.agents} (poll interval {args.poll_interval} s) "
        f"concurrency={args.concurrency} gunicorn workers={args.workers} "
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
    print(f"heartbeats       : {seen} of {total} agents' last_seen written during the run")
    for i, load in enumerate(loads, 1):
        print(f"round {i}: {load}")
    print(f"ratio poll / bare: {ratio:.2f}  (target >= 0.9)")
    ok = set(p["statuses"]) == {200} and p["fresh"] == p["requests"] and seen == total
    if not ok:
        print(
            "FAIL: every poll must answer 200 with the signed timestamp, and every agent's "
            "heartbeat must reach the database",
            file=sys.stderr,
        )
    return 0 if ok and ratio >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
