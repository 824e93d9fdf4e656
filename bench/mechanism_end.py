"""Benchmark: ending a mechanism that 10,000 transfers rely on, and simulating it first.

On a throw-away PostgreSQL database (``bench_mechanism_end_<name>`` of ``DATABASE_URL``, created
and dropped by the run): the demo regions, the reference adequacy decisions and the routing facts;
``--dependents`` (10,000) approved transfers eu-central -> us-east relying on the EU-US Data
Privacy Framework decision (a quarter of them to the US as a country, so every region of the
country is touched), ``--deployments`` (20) model deployments in us-east that rely on them, an
agent per region, and every region's bundle published. The set-up writes in bulk and is not
measured. Then, in this order:

* **baseline**, measured in the same run: the policy engine alone re-evaluating the dependents
  against the mechanism set with the decision ended (no database), the floor of any ending;
* **simulation**: ``controlplane.routing.drill.simulate_ending``, the impact every page shows
  before a mechanism ends (the real ``mechanism_end`` in a transaction, rolled back). Target
  under 10 s;
* **ending**: ``end_as_simulated`` committed, and the publishing that runs after the commit
  (each touched region's bundle once, the routing table where it changed). Target under 30 s.

Each phase prints its seconds, its queries (with the number per dependent: it must not grow
with the dependents) and its ratio to the baseline. ``BENCH_PROFILE=simulate|end`` prints a
cProfile of that phase. Exits non-zero when a target is missed or the ending did not suspend
exactly what the simulation listed.

    DATABASE_URL=postgres://... .venv/bin/python bench/mechanism_end.py [--dependents 10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SIMULATION_TARGET = 10.0
ENDING_TARGET = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dependents", type=int, default=10_000)
    parser.add_argument("--deployments", type=int, default=20)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("needs PostgreSQL: set DATABASE_URL=postgres://...")
        return 2
    var = tempfile.mkdtemp(prefix="bench-mechanism-end-")
    os.environ.update(
        {
            "CONTROLPLANE_VAR_DIR": var,
            "TUF_KEY_DIR": f"{var}/keys",
            "TUF_ROOT_KEY_DIR": f"{var}/root-keys",
            "BUNDLE_PUSH_ENABLED": "0",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.pop("REDIS_URL", None)  # the cache and broker are not what is measured
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DEBUG = False  # no query log kept in memory
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    # Not test_<name>: the test suite may be using that one at the same time.
    connection.settings_dict["TEST"]["NAME"] = f"bench_mechanism_end_{old_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return run(args.dependents, args.deployments)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


@contextmanager
def counted():
    """Count the queries of a phase."""
    from django.db import connection

    box = {"queries": 0}

    def count(execute, sql, params, many, context):
        box["queries"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield box


@contextmanager
def profiled(phase: str):
    if os.environ.get("BENCH_PROFILE") != phase:
        yield
        return
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


def seed(n: int, deployments: int):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from controlplane.distribution import services as distribution
    from controlplane.modelregistry import services as registry
    from controlplane.routing import demo as routing_demo
    from controlplane.transfers import policy as p
    from controlplane.transfers import services as transfers
    from controlplane.transfers.models import Party, TransferRequest
    from regions import demo
    from regions.models import Country, DataCategory, Jurisdiction, Region

    distribution.repository_init()
    demo.seed()
    transfers.reference_mechanisms_sync()
    routing_demo.seed()
    people = {u.username: u for u in get_user_model().objects.all()}
    de, us = Country.objects.get(code="DE"), Country.objects.get(code="US")
    eu_central, us_east = Region.objects.get(slug="eu-central"), Region.objects.get(slug="us-east")
    acme = Party.objects.create(
        name="Acme GmbH", country=de, role="controller", hints=[p.HINT_COMMERCIAL]
    )
    cloudy = Party.objects.create(
        name="Cloudy Inc",
        country=us,
        role="processor",
        certifications=[p.CERT_EU_US_DPF],
        hints=[p.HINT_COMMERCIAL],
    )
    categories = list(
        DataCategory.objects.filter(key__in=["user.contact.email", "user.name", "user.financial"])
    )
    first = transfers.transfer_request_create(
        by=people["requester"],
        source_region=eu_central,
        destination_region=us_east,
        destination_country=us,
        exporter=acme,
        importer=cloudy,
        data_categories=categories,
        data_subjects="customers",
        purpose="Bench template",
        frequency=p.RECURRING,
        submit=True,
    )
    first = transfers.transfer_request_approve(request=first, by=people["dpo-eu"])
    mechanism = first.policy_mechanism
    # Deployments first: approving them checks the transfers on their route, one is enough.
    eea = Jurisdiction.objects.get(code="EEA")
    financial = [c for c in categories if c.key == "user.financial"]
    for i in range(deployments):
        model = registry.model_create(
            name=f"bench-{i}", purpose="Bench", owner_team="Bench", by=people["ml-engineer"]
        )
        version = registry.version_register(
            model=model,
            version="1.0",
            digest="sha256:" + hashlib.sha256(f"bench-{i}".encode()).hexdigest(),
            framework="xgboost",
            training_mode="regional",
            contains_personal_data=True,
            training_jurisdictions=[eea],
            data_categories=financial,
            artifacts={us_east: f"s3://models-us-east/bench-{i}"},
            by=people["ml-engineer"],
        )
        approval = registry.deployment_request(
            version=version, region=us_east, by=people["ml-engineer"]
        )
        registry.deployment_approve(approval=approval, by=people["dpo-us"])
    template = {
        f.attname: getattr(first, f.attname)
        for f in TransferRequest._meta.concrete_fields
        if f.attname != "id"
    }
    now = timezone.now()
    rows = []
    for i in range(n - 1):
        row = TransferRequest(**template)
        row.purpose = f"Bench dependent {i}"
        row.created_at = row.submitted_at = row.decided_at = now
        if i % 4 == 0:
            row.destination_region_id = None  # to the US as a country: every US region
        rows.append(row)
    created = TransferRequest.objects.bulk_create(rows, batch_size=2000)
    through = TransferRequest.data_categories.through
    through.objects.bulk_create(
        [
            through(transferrequest_id=tr.pk, datacategory_id=c.pk)
            for tr in created
            for c in categories
        ],
        batch_size=5000,
    )
    for region in Region.objects.all():
        distribution.agent_enroll(region=region, name=f"{region.slug}-agent", poll_interval=30)
        distribution.publish_region(region=region)
    return people, mechanism


def baseline(mechanism) -> tuple[float, int]:
    """The engine alone, on the dependents' facts, with the mechanism ended."""
    from django.utils import timezone

    from controlplane.transfers import policy as p
    from controlplane.transfers import services as transfers
    from controlplane.transfers.models import Mechanism, TransferRequest

    rows = list(Mechanism.objects.with_relations())
    ended = [
        dataclasses.replace(m.to_policy(), status=p.REVOKED, ends_on=timezone.localdate())
        if m.pk == mechanism.pk
        else m.to_policy()
        for m in rows
    ]
    mset = p.MechanismSet(ended)
    facts = [
        transfers.facts_for(tr)
        for tr in TransferRequest.objects.filter(policy_mechanism=mechanism)
        .select_related(
            "source_region__jurisdiction",
            "source_region__country",
            "destination_country__jurisdiction",
            "exporter__country",
            "importer__country",
            "chosen_mechanism",
        )
        .prefetch_related("data_categories")
    ]
    start = time.perf_counter()
    blocked = sum(not p.evaluate(f, mset, timezone.localdate()).allowed for f in facts)
    return time.perf_counter() - start, blocked


def run(n: int, deployments: int) -> int:
    from django.db import transaction

    from controlplane.modelregistry.models import DeploymentApproval
    from controlplane.routing import drill
    from controlplane.transfers import policy as p
    from controlplane.transfers.models import TransferRequest

    load = os.getloadavg()
    print(
        f"setting up {n:,} dependents and {deployments} deployments on PostgreSQL ...", flush=True
    )
    started = time.perf_counter()
    people, mechanism = seed(n, deployments)
    dependents = TransferRequest.objects.filter(policy_mechanism=mechanism).count()
    print(
        f"  {dependents:,} transfers rely on {mechanism.name}; set up in "
        f"{time.perf_counter() - started:.0f} s"
    )

    base, blocked = baseline(mechanism)
    print(f"baseline: the engine alone re-evaluating them      {base:7.2f} s ({blocked:,} blocked)")

    arguments = dict(
        mechanism=mechanism, by=people["dpo-eu"], status=p.REVOKED, reason="Bench: ending"
    )
    with counted() as q, profiled("simulate"):
        start, cpu = time.perf_counter(), time.process_time()
        impact = drill.simulate_ending(**arguments)
        simulated, simulated_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"simulation (the real service, rolled back)       {simulated:7.2f} s "
        f"({simulated_cpu:.2f} s CPU here)  "
        f"x{simulated / base:5.1f} of the baseline, {q['queries']} queries "
        f"({q['queries'] / n:.3f} per dependent); would suspend {len(impact.suspended):,}, "
        f"withdraw {len(impact.withdrawn)} deployments, republish {len(impact.bundles)} bundles"
    )

    with counted() as q, profiled("end"):
        start, cpu = time.perf_counter(), time.process_time()
        with transaction.atomic():  # the commit runs the publishing: it is measured too
            done = drill.end_as_simulated(fingerprint=impact.fingerprint, **arguments)
        ended, ended_cpu = time.perf_counter() - start, time.process_time() - cpu
    suspended = TransferRequest.objects.filter(
        suspended_because=mechanism, status="suspended"
    ).count()
    withdrawn = DeploymentApproval.objects.filter(withdrawn_because__isnull=False).count()
    print(
        f"ending it, committed and published               {ended:7.2f} s "
        f"({ended_cpu:.2f} s CPU here)  "
        f"x{ended / base:5.1f} of the baseline, {q['queries']} queries "
        f"({q['queries'] / n:.3f} per dependent); {suspended:,} suspended, {withdrawn} withdrawn"
    )
    exact = suspended == len(done.suspended) == len(impact.suspended) == dependents and (
        withdrawn == len(impact.withdrawn)
    )
    ok = simulated < SIMULATION_TARGET and ended < ENDING_TARGET and exact
    after = os.getloadavg()
    print(
        f"targets for {n:,}: simulation < {SIMULATION_TARGET:.0f} s "
        f"{'met' if simulated < SIMULATION_TARGET else 'MISSED'}, ending < {ENDING_TARGET:.0f} s "
        f"{'met' if ended < ENDING_TARGET else 'MISSED'}; suspended exactly as simulated: "
        f"{'yes' if exact else 'NO'}"
    )
    print(
        f"load average {load[0]:.1f} at the start, {after[0]:.1f} at the end, on "
        f"{os.cpu_count()} CPUs"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
