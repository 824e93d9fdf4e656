"""Ending a mechanism that many transfers rely on (issue 13, points 2 and 3).

    .venv/bin/python bench/mechanism_end.py [--dependents 2000]

Builds a throw-away control plane (SQLite in a temporary directory unless DATABASE_URL is set),
seeds the demo estate, and records ``--dependents`` approved transfers eu-central -> India that
rely on one SCC (rows written in bulk: the set-up is not what is measured). Then it ends the SCC
through ``services.mechanism_end``: every dependent is re-evaluated, suspended and audited, the
deployments of the destination regions are re-checked in one pass, and each touched region is
published once, after the commit.

The baseline, measured in the same run, is the policy engine alone evaluating the same
dependents' facts (no database). The ratio says what the database work (locks, saves, one audit
event per suspended transfer) costs on top of the decision itself; the script also prints the
absolute time and the projection for 10,000 dependents.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("CONTROLPLANE_VAR_DIR", var_dir)
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    os.environ["BUNDLE_PUSH_ENABLED"] = "0"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build(dependents: int):
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from controlplane.audit.actors import Actor
    from controlplane.distribution import signing
    from controlplane.transfers import policy as p
    from controlplane.transfers import services
    from controlplane.transfers.models import Mechanism, Party, TransferRequest
    from regions import demo
    from regions.models import Country, DataCategory, Region

    signing.init_keys()
    demo.seed()
    actor = Actor.system("bench")
    acme = Party.objects.create(
        name="Acme GmbH", country=Country.objects.get(code="DE"), role=p.CONTROLLER,
        hints=["commercial_organisation"],
    )
    labels = Party.objects.create(
        name="Bangalore Labelling", country=Country.objects.get(code="IN"), role=p.PROCESSOR,
        hints=["commercial_organisation"],
    )
    scc = services.mechanism_save(
        mechanism=Mechanism(
            kind=p.KIND_SCC, key="scc-bench", name="SCCs Acme / Bangalore",
            valid_from=date(2024, 1, 1), exporter=acme, importer=labels, module=2,
            tia_on=timezone.localdate() - timedelta(days=30), tia_outcome=p.TIA_NO_CONCERNS,
        ),
        by=actor,
    )
    requester = get_user_model().objects.get(username="requester")
    email = DataCategory.objects.get(key="user.contact.email")
    source = Region.objects.get(slug="eu-central")
    india = Country.objects.get(code="IN")
    now = timezone.now()
    with transaction.atomic():
        rows = TransferRequest.objects.bulk_create(
            [
                TransferRequest(
                    source_region=source, destination_country=india, exporter=acme,
                    exporter_role=p.CONTROLLER, importer=labels, importer_role=p.PROCESSOR,
                    data_subjects="customers", purpose=f"Flow {i}", frequency=p.RECURRING,
                    status="approved", requested_by=requester, submitted_at=now,
                    is_transfer=True, policy_allowed=True, policy_basis=p.BASIS_SCC,
                    policy_mechanism=scc, evaluated_at=now, decided_at=now,
                )
                for i in range(dependents)
            ],
            batch_size=1000,
        )
        through = TransferRequest.data_categories.through
        through.objects.bulk_create(
            [through(transferrequest_id=tr.pk, datacategory_id=email.pk) for tr in rows],
            batch_size=1000,
        )
    return scc


def baseline(scc) -> float:
    """The engine alone: the same dependents' facts, evaluated with the SCC ended."""
    import dataclasses

    from controlplane.transfers import policy as p
    from controlplane.transfers import services
    from controlplane.transfers.models import Mechanism, TransferRequest

    facts = [
        services.facts_for(tr)
        for tr in TransferRequest.objects.filter(policy_mechanism=scc)
        .select_related(
            "source_region__jurisdiction", "source_region__country",
            "destination_country__jurisdiction", "exporter__country", "importer__country",
        )
        .prefetch_related("data_categories")
    ]
    rows = list(Mechanism.objects.with_relations())
    ended = [
        dataclasses.replace(m.to_policy(), status=p.REVOKED, ends_on=date.today())
        if m.pk == scc.pk
        else m.to_policy()
        for m in rows
    ]
    mechanisms = p.MechanismSet(ended)
    started = time.perf_counter()
    for f in facts:
        assert not p.evaluate(f, mechanisms, date.today()).allowed
    return time.perf_counter() - started


def measure(scc, dependents: int) -> float:
    from django.db import connection

    from controlplane.audit.actors import Actor
    from controlplane.transfers import services

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    started = time.perf_counter()
    with connection.execute_wrapper(count):
        _, outcome = services.mechanism_end(
            mechanism=scc, by=Actor.system("bench"), status="revoked", reason="bench"
        )
    elapsed = time.perf_counter() - started
    assert len(outcome["suspended"]) == dependents, len(outcome["suspended"])
    print(f"queries: {queries} ({queries / dependents:.1f} per dependent)")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dependents", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(var_dir)
        from django.db import connection

        print(f"database: {connection.vendor}; dependents: {args.dependents}")
        scc = build(args.dependents)
        pure = baseline(scc)
        full = measure(scc, args.dependents)
    print(f"baseline (engine only): {pure:.3f} s")
    print(f"mechanism_end (re-evaluate, suspend, audit, re-check deployments): {full:.2f} s")
    print(f"ratio mechanism_end / engine: {full / pure:.1f}x")
    print(f"projected for 10,000 dependents: {full / args.dependents * 10_000:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
