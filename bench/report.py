"""Benchmark: a record of transfers (GDPR Art. 30) for large registers.

Measures seconds and peak memory for records of 1,000 and 10,000 approved transfers, each with
an executed transfer in the log (1 in 100 of them a violation). Every measurement runs in a
fresh process, which renders with ``REPORT_RENDER_WORKERS`` worker processes (one per core by
default); CPU seconds count the workers too, and the peak adds each worker's largest size to the
main process's.

Baseline, measured in the same run: the same 1,000 transfers rendered the naive way, as ONE
WeasyPrint document in one process (what the chunked, parallel renderer replaces). The ratios show what chunking saves,
and how time grows from 1,000 to 10,000 rows (10x rows should cost about 10x time).

Target (issue 16): 10,000 transfers in under 60 s with a peak under 1 GiB. Exits non-zero when
it is missed. Each run also prints its CPU seconds, which do not depend on how busy the machine
is (wall-clock time does: on a shared machine, compare CPU seconds).

    .venv/bin/python bench/report.py                 # SQLite in a temporary folder
    DATABASE_URL=postgres://.../bench_db .venv/bin/python bench/report.py   # a scratch database
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60
TARGET_BYTES = 1 << 30

CHILD = r"""
import json, resource, sys, time
from datetime import timedelta
import django
django.setup()
from django.contrib.auth import get_user_model
from django.utils import timezone
from controlplane.audit.actors import Actor
from controlplane.reports import content, rendering, services
from controlplane.reports.models import Report
from controlplane.transfers.models import Mechanism, Party, TransferRecord, TransferRequest
from regions.models import Country, DataCategory, Region

mode, n = sys.argv[1], int(sys.argv[2])
now = timezone.now()
today = timezone.localdate()
admin = get_user_model().objects.get(username="admin")
dpo = get_user_model().objects.get(username="dpo-eu")
regions = list(Region.objects.order_by("slug"))
countries = list(Country.objects.filter(code__in=["IN", "US", "JP", "BR", "CA", "KR"]))
parties = list(Party.objects.order_by("pk"))
mechanism = Mechanism.objects.filter(kind="scc").first()
cats = list(DataCategory.objects.filter(key__in=[
    "user.contact.email", "user.name", "user.health_and_medical", "user.financial",
    "user.contact.phone_number"]))
long_purpose = ("Quarterly analysis of support interactions to improve routing quality, with "
                "pseudonymised identifiers and aggregated outcomes; no profiling of individuals")

if mode == "seed":
    TransferRecord.objects.all()._raw_delete(TransferRecord.objects.db)
    TransferRequest.data_categories.through.objects.all().delete()
    TransferRequest.objects.filter(purpose__startswith="bench:").delete()
    rows = []
    for i in range(n):
        rows.append(TransferRequest(
            source_region=regions[i % len(regions)], destination_country=countries[i % len(countries)],
            exporter=parties[i % len(parties)], exporter_role="controller",
            importer=parties[(i + 3) % len(parties)], importer_role="processor",
            data_subjects="customers and prospective customers of the retail banking division",
            purpose=f"bench: {long_purpose} #{i}", frequency="recurring", status="active",
            requested_by=admin, decided_by=dpo, decided_at=now - timedelta(days=i % 300 + 1),
            policy_allowed=True, policy_basis="scc", policy_mechanism=mechanism,
            conditions="Encrypt in transit and at rest; review the TIA yearly." if i % 3 == 0 else "",
            has_special_categories=i % 7 == 0, submitted_at=now))
    created = TransferRequest.objects.bulk_create(rows, batch_size=2000)
    through = TransferRequest.data_categories.through
    links = [through(transferrequest_id=tr.pk, datacategory_id=cats[j].pk)
             for k, tr in enumerate(created) for j in range(k % 3 + 1)]
    through.objects.bulk_create(links, batch_size=5000)
    records = [TransferRecord(
        request=tr, source_region_id=tr.source_region_id, destination_country_id=tr.destination_country_id,
        exporter_name="Acme Europe GmbH", importer_name="Bangalore Labelling Pvt Ltd",
        categories=["user.contact.email"], volume=100 + k, executed_at=now - timedelta(hours=k % 2000 + 1),
        legal_basis="scc", reported_by="bench", violation=k % 100 == 0,
        violation_reason="No approved request in effect covered this transfer." if k % 100 == 0 else "")
        for k, tr in enumerate(created)]
    TransferRecord.objects.bulk_create(records, batch_size=5000)
    print(json.dumps({"seeded": n}))
    sys.exit(0)

cpu_before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
report = services._create(kind="record_of_transfers", period_start=today - timedelta(days=365),
                          period_end=today, regions=regions, by=Actor.system("bench"))
started = time.perf_counter()
if mode == "chunked":
    report = services.report_generate(report_id=report.pk)
    assert report.status == "done", report.error
    result = {"pages": report.pages, "size": report.size}
else:  # naive: every section in one WeasyPrint document
    from pathlib import Path
    from controlplane.reports.pdfworker import Renderer
    plan = content.build(report)
    body = plan.front([]) + "".join(c.html for s in plan.sections for c in s.chunks())
    out = Path(rendering.settings.REPORTS_DIR) / "naive.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    pages = Renderer({"report": rendering.stylesheet()}, str(rendering.settings.BASE_DIR)).render(
        body, sheet="report", title="naive", out=out)
    result = {"pages": pages, "size": out.stat().st_size}
seconds = time.perf_counter() - started
children = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu_before + children.ru_utime + children.ru_stime
workers = rendering.render_workers() if mode == "chunked" else 0
# The main process plus every render worker at the largest any of them reached (an upper bound
# of what they held at once).
peak = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + workers * children.ru_maxrss) * 1024
print(json.dumps({**result, "seconds": seconds, "cpu": cpu, "peak": peak, "workers": workers}))
"""


def run(env, *args) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *map(str, args)],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    env = {
        **os.environ,
        "CONTROLPLANE_VAR_DIR": str(tmp),
        "REPORTS_DIR": str(tmp / "reports"),
        "DJANGO_SETTINGS_MODULE": "controlplane.settings",
        "DJANGO_DEBUG": "1",
        "BUNDLE_PUSH_ENABLED": "0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)  # no broker needed: the bench calls the service directly
    manage = [sys.executable, str(ROOT / "manage.py")]
    db = "PostgreSQL" if env.get("DATABASE_URL", "").startswith("postgres") else "SQLite"
    print(f"setting up in {tmp} ({db})", flush=True)
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [*manage, "seed_demo"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL
    )

    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    run(env, "seed", sizes[0])
    baseline = run(env, "naive", sizes[0])
    print(
        f"baseline: {sizes[0]:>6} transfers, one WeasyPrint document: {baseline['seconds']:6.1f} s "
        f"({baseline['cpu']:.1f} s CPU), "
        f"peak {baseline['peak'] / 2**20:6.0f} MiB, {baseline['pages']} pages",
        flush=True,
    )
    for n in sizes:
        run(env, "seed", n)
        results[n] = r = run(env, "chunked", n)
        print(
            f"chunked:  {n:>6} transfers, {r['workers']} render workers: {r['seconds']:6.1f} s "
            f"({r['cpu']:.1f} s CPU in all processes), "
            f"peak {r['peak'] / 2**20:6.0f} MiB, "
            f"{r['pages']} pages, {r['size'] / 2**20:.1f} MiB file; "
            f"time x{r['seconds'] / baseline['seconds']:.2f} and memory "
            f"x{r['peak'] / baseline['peak']:.2f} of the baseline",
            flush=True,
        )
    first, last = sizes[0], sizes[-1]
    if len(sizes) > 1:
        print(
            f"growth: {last // first}x the transfers cost "
            f"{results[last]['seconds'] / results[first]['seconds']:.1f}x the time and "
            f"{results[last]['peak'] / results[first]['peak']:.2f}x the peak memory"
        )
    big = results[last]
    load = os.getloadavg()[0]
    print(f"load average now {load:.1f} on {os.cpu_count()} CPUs (wall-clock time grows with it; CPU time does not)")
    ok = big["seconds"] < TARGET_SECONDS and big["peak"] < TARGET_BYTES
    print(
        f"target for {last}: < {TARGET_SECONDS} s and < 1 GiB: "
        f"{'met' if ok else 'MISSED'} ({big['seconds']:.1f} s, {big['peak'] / 2**20:.0f} MiB)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
