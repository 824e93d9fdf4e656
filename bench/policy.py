"""Benchmark of the transfer register.

Part 1 (pure, no database): evaluations per second of the policy engine for 10,000 varied
requests against a realistic mechanism set (all reference adequacy decisions, 300 SCCs, 50
IDTAs / UK Addenda, 10 BCRs). The baseline, measured in the same run, is the engine's own
shortest path: 10,000 intra-EEA requests, which return "not a transfer" after one comparison.
The ratio says how much a full evaluation costs relative to that floor.

Part 2 (needs Django and a database): the number of SQL queries the DPO queue page runs with
10 and with 1,000 submitted requests. They must be equal (no N+1); the script exits non-zero
otherwise.

    .venv/bin/python bench/policy.py            # both parts
    .venv/bin/python bench/policy.py --pure     # part 1 only
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from controlplane.transfers import policy as p  # noqa: E402
from controlplane.transfers import reference_data as ref  # noqa: E402

N = 10_000
ON = date(2026, 12, 1)
DESTINATIONS = ["US", "CA", "JP", "KR", "IN", "BR", "CN", "SG", "AU", "IL", "CH", "GB", "MX"]
ORIGINS = ["DE", "FR", "IE", "NL", "GB", "CH"]
CATEGORIES = [
    "user.contact.email",
    "user.contact.phone_number",
    "user.name",
    "user.financial",
    "user.health",
    "user.device.ip_address",
    "user.behavior",
]


def build_world(seed: int = 7):
    rnd = random.Random(seed)
    mechanisms: list[p.Mechanism] = list(ref.adequacy_mechanisms())
    exporters = [
        p.PartyFacts(f"Exporter {i}", rnd.choice(ORIGINS), rnd.choice(p.ROLES), id=i)
        for i in range(200)
    ]
    importers = []
    for i in range(400):
        country = rnd.choice(DESTINATIONS)
        certs = set()
        if country == "US" and rnd.random() < 0.5:
            certs.add(p.CERT_EU_US_DPF)
        importers.append(
            p.PartyFacts(
                f"Importer {i}",
                country,
                rnd.choice(p.ROLES),
                frozenset(certs),
                frozenset({p.HINT_COMMERCIAL}) if rnd.random() < 0.7 else frozenset(),
                id=1000 + i,
            )
        )
    pairs = []
    for i in range(300):
        e, imp = rnd.choice(exporters), rnd.choice(importers)
        pairs.append((e, imp))
        mechanisms.append(
            p.SCC(
                key=f"scc-{i}",
                name=f"SCCs {i}",
                valid_from=date(2023, 1, 1),
                exporter=p.PartyRef(e.name, e.country, e.id),
                importer=p.PartyRef(imp.name, imp.country, imp.id),
                module=rnd.randint(1, 4),
                tia_on=date(2026, rnd.randint(1, 11), 1) if rnd.random() < 0.8 else None,
                tia_outcome=rnd.choice(p.TIA_OUTCOMES),
            )
        )
    for i in range(50):
        e, imp = rnd.choice(exporters), rnd.choice(importers)
        cls = p.IDTA if i % 2 else p.UKAddendum
        extra = {} if cls is p.IDTA else {"module": rnd.randint(1, 4)}
        mechanisms.append(
            cls(
                key=f"uk-{i}",
                name=f"UK contract {i}",
                valid_from=date(2023, 1, 1),
                exporter=p.PartyRef(e.name, e.country, e.id),
                importer=p.PartyRef(imp.name, imp.country, imp.id),
                tia_on=date(2026, 6, 1),
                tia_outcome=p.TIA_NO_CONCERNS,
                **extra,
            )
        )
    for i in range(10):
        members = rnd.sample(exporters, 5) + rnd.sample(importers, 10)
        mechanisms.append(
            p.BCR(
                key=f"bcr-{i}",
                name=f"Group {i} BCR",
                valid_from=date(2020, 1, 1),
                group=f"Group {i}",
                bcr_type=rnd.choice(p.ROLES),
                jurisdiction="EEA",
                members=tuple(p.PartyRef(m.name, m.country, m.id) for m in members),
            )
        )

    requests = []
    for _ in range(N):
        # A third of the requests are between parties that signed SCCs with each other.
        if rnd.random() < 0.33:
            e, imp = rnd.choice(pairs)
        else:
            e, imp = rnd.choice(exporters), rnd.choice(importers)
        requests.append(
            p.TransferFacts(
                source_country=e.country,
                source_jurisdiction=ref.jurisdiction_of(e.country),
                destination_country=imp.country,
                destination_jurisdiction=ref.jurisdiction_of(imp.country),
                exporter=e,
                importer=imp,
                data_categories=tuple(rnd.sample(CATEGORIES, rnd.randint(1, 3))),
                special_categories=frozenset({"user.health"}),
                frequency=rnd.choice(p.FREQUENCIES),
                derogation=rnd.choice([None, None, None, "explicit_consent", "legal_claims"]),
            )
        )
    intra = [
        p.TransferFacts(
            source_country="DE",
            source_jurisdiction="EEA",
            destination_country="FR",
            destination_jurisdiction="EEA",
            exporter=exporters[0],
            importer=importers[0],
            data_categories=("user.contact.email",),
        )
        for _ in range(N)
    ]
    return mechanisms, requests, intra


def timed(requests, mechanisms) -> tuple[float, list]:
    start = time.perf_counter()
    out = [p.evaluate(r, mechanisms, ON) for r in requests]
    return time.perf_counter() - start, out


def part1() -> None:
    mechanisms, requests, intra = build_world()
    index = p.MechanismSet(mechanisms)
    timed(requests[:500], index)  # warm-up
    base_s, _ = timed(intra, index)
    full_s, decisions = timed(requests, index)
    raw_s, _ = timed(requests[:1000], mechanisms)  # a plain list, indexed on every call
    allowed = sum(d.allowed for d in decisions)
    transfers = sum(d.transfer for d in decisions)
    bases: dict[str, int] = {}
    for d in decisions:
        bases[d.basis or "blocked"] = bases.get(d.basis or "blocked", 0) + 1
    print("Part 1: policy engine")
    print(f"  mechanisms: {len(mechanisms)}  requests: {N}  on: {ON}")
    print(f"  outcomes: {transfers} transfers, {allowed} allowed; by basis: {bases}")
    print(f"  baseline (intra-EEA short path): {N / base_s:12,.0f} evaluations/s")
    print(f"  full evaluation (indexed set):   {N / full_s:12,.0f} evaluations/s")
    print(f"  full evaluation (plain list):    {1000 / raw_s:12,.0f} evaluations/s")
    print(f"  ratio full/baseline time: {full_s / base_s:.1f}x slower than the short path")


def part2() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    try:
        from controlplane.transfers import benchsupport
    except ImportError as exc:  # the Django side is not there yet
        print(f"Part 2 skipped: {exc}")
        return 0
    return benchsupport.queue_queries_report()


if __name__ == "__main__":
    part1()
    if "--pure" not in sys.argv:
        sys.exit(part2())
