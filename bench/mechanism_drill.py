"""Benchmark: ending a mechanism that 10,000 transfers rely on, and rehearsing it first.

On a throw-away PostgreSQL test database (``test_<name>`` of ``DATABASE_URL``): the demo
regions, the reference adequacy decisions, 10,000 approved transfers eu-central -> us-east
relying on the EU-US Data Privacy Framework decision (a quarter of them to the US as a country),
20 model deployments in us-east that rely on them, every region's bundle published. Then:

* the baseline, measured in the same run: the policy engine alone re-evaluating the 10,000
  dependents against the ended mechanism set (no database write), the floor of any ending;
* the drill's simulation (``controlplane.routing.drill.simulate_ending``: the real service,
  rolled back): target under 10 s;
* ending it for real, as simulated (``end_as_simulated``), then the publishing that follows the
  commit: target under 30 s.

    DATABASE_URL=postgres://... .venv/bin/python bench/mechanism_drill.py [--dependents 10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dependents", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("needs PostgreSQL: set DATABASE_URL=postgres://...")
        return 2
    keys = tempfile.mkdtemp(prefix="bench-keys-")
    os.environ["BUNDLE_SIGNING_KEY_FILE"] = f"{keys}/signing.key"
    os.environ["BUNDLE_KEYRING_FILE"] = f"{keys}/keyring.json"
    os.environ["BUNDLE_ROOT_KEY_FILE"] = f"{keys}/root.key"
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.BUNDLE_SIGNING_KEY_FILE = f"{keys}/signing.key"
    settings.BUNDLE_KEYRING_FILE = f"{keys}/keyring.json"
    settings.BUNDLE_ROOT_KEY_FILE = f"{keys}/root.key"
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        return run(args.dependents)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


def run(n: int) -> int:
    from django.db import transaction
    from django.utils import timezone

    from controlplane.distribution import services as distribution
    from controlplane.distribution import signing
    from controlplane.modelregistry import services as registry
    from controlplane.routing import demo as routing_demo
    from controlplane.routing import drill
    from controlplane.transfers import policy as p
    from controlplane.transfers import services as transfers
    from controlplane.transfers.models import Mechanism, Party, TransferRequest
    from regions import demo
    from regions.models import Country, DataCategory, Jurisdiction, Region

    print(f"setting up {n:,} dependents ...", flush=True)
    signing.init_keys()
    demo.seed()
    transfers.reference_mechanisms_sync()
    routing_demo.seed()
    from django.contrib.auth import get_user_model

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
            row.destination_region_id = None  # to the US as a country
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
    eea = Jurisdiction.objects.get(code="EEA")
    financial = [c for c in categories if c.key == "user.financial"]
    for i in range(20):
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
    for region in Region.objects.all():
        distribution.publish_region(region=region)
    dependents = TransferRequest.objects.filter(policy_mechanism=mechanism).count()
    print(f"  {dependents:,} transfers rely on {mechanism.name}; 20 deployments in us-east")

    # Baseline: the engine alone, on the dependents, with the mechanism ended.
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
    baseline = time.perf_counter() - start
    print(
        f"  baseline: the engine alone re-evaluating them      {baseline:7.2f} s ({blocked:,} blocked)"
    )

    profile = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    start = time.perf_counter()
    impact = drill.simulate_ending(
        mechanism=mechanism, by=people["dpo-eu"], status=p.REVOKED, reason="Bench drill"
    )
    simulated = time.perf_counter() - start
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
    print(
        f"  simulation (real service, rolled back)           {simulated:7.2f} s   "
        f"ratio {simulated / baseline:5.1f}   {len(impact.suspended):,} would be suspended, "
        f"{len(impact.withdrawn)} deployments withdrawn, {len(impact.bundles)} bundles"
    )

    start = time.perf_counter()
    with transaction.atomic():
        done = drill.end_as_simulated(
            mechanism=mechanism,
            by=people["dpo-eu"],
            status=p.REVOKED,
            reason="Bench drill",
            fingerprint=impact.fingerprint,
        )
    ended_at = time.perf_counter() - start
    suspended = TransferRequest.objects.filter(status="suspended").count()
    print(
        f"  ending it, committed and published               {ended_at:7.2f} s   "
        f"ratio {ended_at / baseline:5.1f}   {suspended:,} suspended"
    )
    ok = simulated < 10 and ended_at < 30 and suspended == len(done.suspended) == dependents
    print(
        f"  targets: simulation < 10 s {'met' if simulated < 10 else 'MISSED'}, "
        f"ending < 30 s {'met' if ended_at < 30 else 'MISSED'}, "
        f"suspended exactly as simulated: {'yes' if suspended == len(done.suspended) else 'NO'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
