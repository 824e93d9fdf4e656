"""Benchmark of the inference routing table (pure, no database).

Builds the whole table for 200 regions (in 40 countries), 300 endpoints, 249 countries, every
reference adequacy decision and 500 approved transfers, then renders the three gateway exports.
The target: the table in under a second.

The baseline, measured in the same run, is the naive way to the same legal facts: one call of
the transfer policy engine per (country, region) pair, 49,800 calls, with no table built. The
ratio says what the table costs relative to that.

    .venv/bin/python bench/routing.py
"""

from __future__ import annotations

import random
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pycountry  # noqa: E402

from controlplane.routing import exports  # noqa: E402
from controlplane.routing import policy as rp  # noqa: E402
from controlplane.transfers import policy as tp  # noqa: E402
from controlplane.transfers import reference_data as ref  # noqa: E402
from regions.reference import jurisdiction_code_for  # noqa: E402

ON = date(2026, 11, 26)
REGION_COUNTRIES = (
    "DE FR NL IE IT ES SE PL AT BE FI DK PT CZ NO GB US CA JP KR IN BR SG AU CH "
    "IL NZ AR UY ZA AE SA MX CL CO ID MY TH VN PH"
).split()
CATEGORIES = ["user.contact.email", "user.name", "user.financial", "user.device", "user.behavior"]


def world(seed: int = 18):
    rnd = random.Random(seed)
    countries = {c.alpha_2: jurisdiction_code_for(c.alpha_2) for c in pycountry.countries}
    regions = []
    for i in range(200):
        country = REGION_COUNTRIES[i % len(REGION_COUNTRIES)]
        regions.append(rp.RegionFacts(f"r{i:03d}-{country.lower()}", countries[country], country))
    endpoints = []
    for i, region in enumerate(regions):
        for j in range(1 + (i % 2)):
            endpoints.append(
                rp.EndpointFacts(
                    region=region.slug,
                    name=f"ep{j}",
                    url=f"https://{region.slug}-{j}.inference.example.com/v1",
                    priority=rnd.choice([10, 50, 100]),
                    latency_hint_ms=rnd.randint(5, 300),
                    log_store="inference-logs",
                    input_categories=frozenset(rnd.sample(CATEGORIES, 2)),
                )
            )
    transfers = []
    for i in range(500):
        source = rnd.choice(["EEA", "GB", "CH", "US", "JP"])
        target = rnd.choice(regions)
        transfers.append(
            rp.TransferInEffect(
                id=f"TR-{i}",
                source_jurisdiction=source,
                destination_country=target.country,
                destination_region=target.slug if rnd.random() < 0.7 else None,
                categories=frozenset(rnd.sample(CATEGORIES, 3)),
                mechanism="scc",
            )
        )
    return countries, regions, endpoints, transfers


def naive(countries, regions, mechanisms):
    """The baseline: ask the engine about every (country, region) pair."""
    allowed = 0
    for country, jurisdiction in countries.items():
        for region in regions:
            facts = tp.TransferFacts(
                source_country=country,
                source_jurisdiction=jurisdiction,
                destination_country=region.country,
                destination_jurisdiction=region.jurisdiction,
                exporter=tp.PartyFacts("controller", country, tp.CONTROLLER),
                importer=tp.PartyFacts("operator", region.country, tp.PROCESSOR),
                data_categories=(),
                frequency=tp.RECURRING,
            )
            allowed += tp.evaluate(facts, mechanisms, ON).allowed
    return allowed


def best_of(n, fn):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> int:
    countries, regions, endpoints, transfers = world()
    mechanisms = tp.MechanismSet(list(ref.adequacy_mechanisms()))
    baseline, _ = best_of(1, lambda: naive(countries, regions, mechanisms))

    def build():
        return rp.build_table(
            regions=regions,
            endpoints=endpoints,
            countries=countries,
            mechanisms=mechanisms,
            transfers=transfers,
            on=ON,
        )

    table_time, table = best_of(3, build)
    as_dict = table.as_dict()
    export_time, _ = best_of(
        3,
        lambda: (
            exports.gateway_json(as_dict),
            exports.edge_json(as_dict),
            exports.nginx_map(as_dict),
        ),
    )
    routes = sum(len(r) for r in table.routes.values())
    print(
        f"routing table: {len(regions)} regions, {len(endpoints)} endpoints, "
        f"{len(countries)} countries, {len(table.routes)} jurisdictions, {len(transfers)} "
        f"transfers -> {routes} routes, {len(table.gaps())} gaps"
    )
    print(
        f"  baseline (engine per country x region, {len(countries) * len(regions)} calls): "
        f"{baseline * 1000:8.1f} ms"
    )
    print(
        f"  table build (best of 3):                           {table_time * 1000:8.1f} ms"
        f"   ratio to baseline {table_time / baseline:.3f}"
    )
    print(f"  three exports (best of 3):                         {export_time * 1000:8.1f} ms")
    ok = table_time < 1.0
    print(f"  target: table under 1 s -> {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
