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
        # Some importers' scope is stated (yes or no), the rest is left open (a condition).
        scope = {}
        if rnd.random() < 0.3:
            scope[rnd.choice([p.CERT_EU_US_DPF, p.HINT_APPI_OPERATOR, p.HINT_AUTOMATED])] = (
                rnd.random() < 0.5
            )
        importers.append(
            p.PartyFacts(
                f"Importer {i}",
                country,
                rnd.choice(p.ROLES),
                frozenset(certs),
                frozenset({p.HINT_COMMERCIAL}) if rnd.random() < 0.7 else frozenset(),
                id=1000 + i,
                scope=scope,
                jurisdiction=ref.jurisdiction_of(country),
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
                categories=frozenset({"user"}) if i % 2 else frozenset(),
                tia_on=date(2026, 6, 1),
                tia_outcome=p.TIA_NO_CONCERNS,
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
    nuage = p.PartyFacts("Nuage SA", "FR", p.PROCESSOR, id=9999, jurisdiction="EEA")
    intra = [
        p.TransferFacts(
            source_country="DE",
            source_jurisdiction="EEA",
            destination_country="FR",
            destination_jurisdiction="EEA",
            exporter=exporters[0],
            importer=nuage,
            data_categories=("user.contact.email",),
        )
        for _ in range(N)
    ]
    return mechanisms, requests, intra


CPU_SECONDS: dict[int, float] = {}


def timed(requests, mechanisms) -> tuple[float, list]:
    """Wall seconds (and, in CPU_SECONDS, the process's CPU seconds) for the evaluations. On a
    shared, oversubscribed machine the CPU rate is the engine's own speed; the wall rate also
    counts the time other processes held the cores."""
    start, cpu = time.perf_counter(), time.process_time()
    out = [p.evaluate(r, mechanisms, ON) for r in requests]
    CPU_SECONDS[id(requests)] = time.process_time() - cpu
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
    conditional = sum(bool(d.conditions) for d in decisions)
    print(f"  outcomes: {transfers} transfers, {allowed} allowed; by basis: {bases}")
    print(f"  allowed with conditions for the approving DPO: {conditional}")
    base_cpu, full_cpu = CPU_SECONDS[id(intra)], CPU_SECONDS[id(requests)]
    print(
        f"  baseline (intra-EEA short path): {N / base_s:12,.0f} evaluations/s "
        f"({N / base_cpu:,.0f} per CPU second)"
    )
    print(
        f"  full evaluation (indexed set):   {N / full_s:12,.0f} evaluations/s "
        f"({N / full_cpu:,.0f} per CPU second)"
    )
    print(f"  full evaluation (plain list):    {1000 / raw_s:12,.0f} evaluations/s")
    print(f"  ratio full/baseline time: {full_s / base_s:.1f}x slower than the short path")


def part2() -> int:
    """Queries of the DPO queue page with 10 and with 1,000 submitted requests.

    Runs against a throw-away test database (``test_<name>`` on PostgreSQL, in memory on
    SQLite), built with migrations like the test suite's, and removed afterwards.
    """
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import (
        CaptureQueriesContext,
        setup_test_environment,
        teardown_test_environment,
    )

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return _queue_queries(CaptureQueriesContext, connection)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def _queue_queries(CaptureQueriesContext, connection) -> int:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone
    from guardian.shortcuts import assign_perm

    from controlplane.permissions import ensure_role_groups
    from controlplane.transfers.models import Party, TransferRequest
    from regions import demo
    from regions.models import Country, DataCategory, Region

    demo.seed()
    groups = ensure_role_groups()
    user_model = get_user_model()
    dpo = user_model.objects.create_user("bench-dpo", password="unused-bench-password")
    dpo.groups.add(groups["dpo"])
    requester = user_model.objects.create_user("bench-requester", password="unused-bench-pw")
    regions = list(Region.objects.filter(slug__in=["eu-central", "eu-west"]))
    for region in regions:
        assign_perm("regions.approve_transfers", dpo, region)
        assign_perm("regions.view_region", dpo, region)
    countries = {c.code: c for c in Country.objects.filter(code__in=["DE", "US", "IN"])}
    exporter = Party.objects.create(name="Bench GmbH", country=countries["DE"], role="controller")
    importers = [
        Party.objects.create(name=f"Bench importer {i}", country=countries[c], role="processor")
        for i, c in enumerate(["US", "IN"])
    ]
    categories = list(DataCategory.objects.filter(key__startswith="user.contact")[:3])
    categories += list(DataCategory.objects.filter(is_special_category=True)[:1])
    through = TransferRequest.data_categories.through

    def add(n: int) -> None:
        now = timezone.now()
        rows = TransferRequest.objects.bulk_create(
            TransferRequest(
                source_region=regions[i % 2],
                destination_country=importers[i % 2].country,
                exporter=exporter,
                exporter_role="controller",
                importer=importers[i % 2],
                importer_role="processor",
                data_subjects="customers",
                purpose=f"bench flow {i}",
                frequency="recurring",
                status="submitted",
                submitted_at=now,
                requested_by=requester,
                policy_allowed=bool(i % 3),
                policy_basis="scc" if i % 3 else "",
                policy_findings=[{"code": "SCC_IN_FORCE", "severity": "info", "message": "."}],
            )
            for i in range(n)
        )
        through.objects.bulk_create(
            through(transferrequest_id=tr.pk, datacategory_id=c.pk)
            for k, tr in enumerate(rows)
            for c in categories[: 1 + k % len(categories)]
        )

    client = Client()
    client.force_login(dpo)
    client.get("/transfers/")  # warm up (content types, session)

    def measure() -> tuple[int, float, int]:
        start = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/transfers/")
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.status_code
        return len(ctx.captured_queries), elapsed, response.content.count(b"data-request=")

    add(10)
    few_queries, few_s, few_rows = measure()
    add(990)
    many_queries, many_s, many_rows = measure()
    print("Part 2: DPO queue page (/transfers/)")
    print(f"  database: {connection.vendor}")
    for total, (queries, seconds, rows) in (
        (10, (few_queries, few_s, few_rows)),
        (1000, (many_queries, many_s, many_rows)),
    ):
        print(
            f"  {total:5d} submitted requests ({rows} rows on page 1): "
            f"{queries} queries, {seconds * 1000:6.1f} ms"
        )
    if few_queries != many_queries:
        print("  FAIL: the number of queries grows with the number of requests (N+1).")
        return 1
    print("  OK: the same number of queries for 10 and 1,000 requests.")
    return 0


if __name__ == "__main__":
    part1()
    if "--pure" not in sys.argv:
        sys.exit(part2())
