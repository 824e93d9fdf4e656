"""What each report says: its sections, built lazily from the selectors, chunk by chunk.

A builder returns a ``Plan`` (title, running header and footer, front matter, sections). The
rows are read with ``iterator()`` inside the sections' chunk generators, so only one chunk of
rows is in memory at a time; every row also feeds the report's data digest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.apps import apps
from django.conf import settings
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone

from controlplane.audit.models import GENESIS_HASH, AuditEvent
from controlplane.distribution import selectors as distribution
from controlplane.distribution.models import Delivery
from controlplane.modelregistry import selectors as models_selectors
from controlplane.reports import selectors
from controlplane.reports.models import Report, ReportKind
from controlplane.reports.rendering import Chunk, Section, TocEntry
from controlplane.reports.timeline import TimelineItem, expiry_timeline_svg
from controlplane.transfers.models import (
    BASIS_CHOICES,
    DEROGATION_CHOICES,
    IN_EFFECT,
    TransferRequest,
)
from controlplane.web.audit_trail import SHARED_REGISTER
from regions.models import Agent, Region
from regions.validators import parse_key_reference

logger = logging.getLogger(__name__)
BASIS_LABELS = dict(BASIS_CHOICES)
DEROGATION_LABELS = dict(DEROGATION_CHOICES)


def chunk_rows() -> int:
    return int(getattr(settings, "REPORT_CHUNK_ROWS", 200))


@dataclass
class Plan:
    title: str
    header: str
    footer: str
    cover: dict
    sections: list[Section]
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    def front(self, toc: list[TocEntry]) -> str:
        return render_to_string(
            "reports/pdf/front.html", {**self.cover, "title": self.title, "toc": toc}
        )


def _batched(iterable, size) -> Iterator[list]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def _chunk(template: str, context: dict, weight: int = 1) -> Chunk:
    return Chunk(render_to_string(template, context), weight)


def _cover(report: Report, regions: list[Region], lines: list[tuple[str, str]]) -> dict:
    return {
        "report": report,
        "regions": regions,
        "generated_at": timezone.now(),
        "requested_by": report.requested_by.get_username()
        if report.requested_by
        else "Celery beat (monthly schedule)",
        "facts": lines,
    }


def _verification_section(report: Report, plan: Plan, extra: list[tuple[str, str]] | None = None):
    def chunks():
        yield _chunk(
            "reports/pdf/verification.html",
            {"report": report, "data_digest": plan.digest.hexdigest(), "extra": extra or []},
        )

    return Section("verification", "Verification", chunks, weight=1)


def build(report: Report) -> Plan:
    return BUILDERS[report.kind](report)


# --- Record of transfers -------------------------------------------------------------------


def _day(moment) -> str:
    """A date as the record prints it: the day in the site's time zone."""
    if moment is None:
        return ""
    if hasattr(moment, "tzinfo"):
        moment = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return moment.strftime("%Y-%m-%d")


def _transfer_row(tr, related: selectors.RecordRelations) -> dict:
    """One entry of the record: the transfer and its status, then its facts in one paragraph
    (one block per entry: WeasyPrint's cost grows with table cells; four cells a row took
    twice as long). The one place a transfer's entry in the record is worded; the template
    escapes it."""
    country = related["country"][tr.destination_country_id]
    exporter = related["party"][tr.exporter_id]
    importer = related["party"][tr.importer_id]
    mechanism = related["mechanism"].get(tr.policy_mechanism_id or tr.chosen_mechanism_id)
    facts = [f"→ {country.name} ({country.code})"]
    if tr.destination_region_id:
        facts[0] += f", region {related['region'][tr.destination_region_id].slug}"
    basis = f"under {BASIS_LABELS.get(tr.policy_basis, tr.policy_basis or 'none')}"
    if mechanism:
        basis += f": {mechanism.name}"
    if tr.derogation:
        basis += f"; {DEROGATION_LABELS.get(tr.derogation, '')}"
    facts += [
        f"{exporter.name} ({exporter.country.code}, {tr.get_exporter_role_display().lower()}) → "
        f"{importer.name} ({importer.country.code}, {tr.get_importer_role_display().lower()})",
        basis,
        "data: "
        + "; ".join(
            c.name
            + (" (Art. 9)" if c.is_special_category else "")
            + (" (Art. 10)" if c.is_criminal_offence_data else "")
            for c in sorted(related.categories.get(tr.pk, ()), key=lambda c: c.key)
        ),
        f"subjects: {tr.data_subjects}",
    ]
    decision = ""
    if tr.decided_by_id:
        decision = (
            f"decided by {related['person'][tr.decided_by_id].get_username()} {_day(tr.decided_at)}"
        )
    if tr.ended_at:
        decision += f", ended {_day(tr.ended_at)}"
    elif tr.expires_on:
        decision += f", until {_day(tr.expires_on)}"
    runs = tr.executed_count
    facts += [decision, f"{runs} run{'' if runs == 1 else 's'}, vol. {tr.executed_volume}"]
    if tr.conditions:
        conditions = tr.conditions if len(tr.conditions) <= 90 else tr.conditions[:89] + "…"
        facts.append(f"conditions: {conditions}")
    return {
        "source": related["region"][tr.source_region_id].slug,
        "transfer": f"{tr} {tr.get_status_display()}",
        "entry": " · ".join(fact for fact in facts if fact),
    }


def record_of_transfers(report: Report) -> Plan:
    regions = list(selectors.scope_regions(report))
    start, end = report.period_start, report.period_end
    totals = selectors.record_totals(regions=regions, start=start, end=end)
    total_transfers = sum(r["transfers"] for r in totals["by_region"].values())
    violation_count = sum(r["violations"] for r in totals["log"].values())
    plan = Plan(
        title="Record of transfers",
        header=f"Record of transfers · {report.scope_label}",
        footer=f"Report {report.short_id} · {start:%Y-%m-%d} to {end:%Y-%m-%d}",
        cover={},
        sections=[],
    )
    plan.cover = _cover(
        report,
        regions,
        [
            (
                "Legal reference",
                "GDPR Art. 30(1)(e) and 30(2)(c): transfers of personal data to a third country",
            ),
            ("Transfers in the record", str(total_transfers)),
            (
                "Executed transfers in the period",
                str(sum(r["records"] for r in totals["log"].values())),
            ),
            ("Violations in the period", str(violation_count)),
        ],
    )
    summary_rows = []
    for region in regions:
        row = totals["by_region"].get(region.slug, {})
        log = totals["log"].get(region.slug, {})
        summary_rows.append(
            {
                "region": region,
                "transfers": row.get("transfers", 0),
                "in_effect": row.get("in_effect", 0),
                "ended": row.get("ended", 0),
                "special": row.get("special", 0),
                "records": log.get("records", 0),
                "volume": log.get("volume", 0),
                "violations": log.get("violations", 0),
            }
        )
    grand = {
        key: sum(r[key] for r in summary_rows)
        for key in ("transfers", "in_effect", "ended", "special", "records", "volume", "violations")
    }

    def summary():
        yield _chunk(
            "reports/pdf/record_summary.html",
            {
                "rows": summary_rows,
                "grand": grand,
                "by_basis": [
                    {**b, "basis": BASIS_LABELS.get(b["legal_basis"], b["legal_basis"] or "none")}
                    for b in totals["log_by_basis"]
                ],
                "start": start,
                "end": end,
            },
        )

    def transfers():
        qs = selectors.transfers_in_record(regions=regions, start=start, end=end)
        related = selectors.RecordRelations()
        current = None
        first = True
        for batch in _batched(qs.iterator(chunk_size=chunk_rows()), chunk_rows()):
            related.load(batch)
            groups = []
            for tr in batch:
                row = _transfer_row(tr, related)
                plan.digest.update(
                    f"{tr}|{tr.status}|{tr.policy_basis}|{tr.decided_at}|{tr.ended_at}\n".encode()
                )
                if not groups or groups[-1]["region"] != row["source"]:
                    is_new = row["source"] != current
                    groups.append(
                        {
                            "region": row["source"],
                            "new": is_new,
                            "rows": [],
                            "totals": totals["by_region"].get(row["source"], {}),
                        }
                    )
                    current = row["source"]
                groups[-1]["rows"].append(row)
            yield _chunk(
                "reports/pdf/record_transfers.html",
                {"groups": groups, "first": first},
                weight=len(batch),
            )
            first = False
        if first:
            yield _chunk("reports/pdf/record_transfers.html", {"groups": [], "first": True})

    def log():
        qs = selectors.violations(regions=regions, start=start, end=end)
        first = True
        for batch in _batched(qs.iterator(chunk_size=chunk_rows()), chunk_rows()):
            for record in batch:
                plan.digest.update(f"record {record.pk}|{record.executed_at}\n".encode())
            yield _chunk(
                "reports/pdf/record_log.html",
                {
                    "records": batch,
                    "first": first,
                    "violation_count": violation_count,
                    "by_basis": totals["log_by_basis"] if first else [],
                },
                weight=len(batch),
            )
            first = False
        if first:
            yield _chunk(
                "reports/pdf/record_log.html",
                {"records": [], "first": True, "violation_count": 0},
            )

    plan.sections = [
        Section("summary", "Summary and totals", summary, weight=1),
        Section(
            "transfers", "Transfers by source region", transfers, weight=max(1, total_transfers)
        ),
        Section("log", "Executed transfers and violations", log, weight=max(1, violation_count)),
        _verification_section(report, plan),
    ]
    return plan


# --- Mechanism inventory -------------------------------------------------------------------


def mechanism_inventory(report: Report) -> Plan:
    regions = list(selectors.scope_regions(report))
    start, end = report.period_start, report.period_end
    today = timezone.localdate()
    mechanisms = list(selectors.mechanisms_in_use(start=start, end=end))
    relying = selectors.transfers_relying_on(
        regions=regions, mechanism_ids=[m.pk for m in mechanisms]
    )
    deployments = selectors.deployments_relying_on(regions=regions, transfers_by_mechanism=relying)
    kinds = {}
    for m in mechanisms:
        kinds.setdefault(m.get_kind_display(), []).append(
            {
                "m": m,
                "tia_expires_on": m.tia_expires_on(),
                "transfers": relying.get(m.pk, []),
                "deployments": deployments.get(m.pk, []),
            }
        )
    dated = [m for m in mechanisms if m.ends_on or m.review_on or m.tia_expires_on()]
    dated.sort(key=lambda m: min(d for d in (m.ends_on, m.review_on, m.tia_expires_on()) if d))
    svg = expiry_timeline_svg(
        [
            TimelineItem(m.name, m.valid_from, m.ends_on, m.review_on, m.tia_expires_on())
            for m in dated[:40]
        ],
        today=today,
    )
    plan = Plan(
        title="Mechanism inventory",
        header=f"Mechanism inventory · {report.scope_label}",
        footer=f"Report {report.short_id} · {start:%Y-%m-%d} to {end:%Y-%m-%d}",
        cover={},
        sections=[],
    )
    plan.cover = _cover(
        report,
        regions,
        [
            ("Mechanisms", str(len(mechanisms))),
            ("Transfers in effect relying on them", str(sum(len(v) for v in relying.values()))),
            ("Model deployments relying on them", str(sum(len(v) for v in deployments.values()))),
        ],
    )
    for m in mechanisms:
        plan.digest.update(
            f"{m.key}|{m.status}|{m.valid_from}|{m.ends_on}|{m.review_on}\n".encode()
        )

    def timeline():
        yield _chunk(
            "reports/pdf/mechanism_timeline.html",
            {"svg": svg, "shown": len(dated[:40]), "dated": len(dated), "today": today},
        )

    sections = [Section("timeline", "Expiry timeline", timeline, weight=1)]
    for index, (kind, rows) in enumerate(kinds.items()):

        def chunks(rows=rows, kind=kind):
            for batch in _batched(rows, 40):
                yield _chunk(
                    "reports/pdf/mechanisms.html",
                    {"kind": kind, "rows": batch, "today": today},
                    len(batch),
                )

        sections.append(Section(f"kind-{index}", kind, chunks, weight=len(rows)))
    sections.append(_verification_section(report, plan))
    plan.sections = sections
    return plan


# --- Regional compliance status -----------------------------------------------------------


def _key_in_region(store, region) -> tuple[str, str]:
    key = store.key
    if key is None:
        return "no key", "bad"
    if key.region_id != region.pk:
        return "key of another region", "bad"
    try:
        parsed = parse_key_reference(key.uri)
    except Exception:  # noqa: BLE001 - an unreadable reference is reported, not raised
        return "unreadable key reference", "bad"
    if parsed.get("cloud_region") and parsed["cloud_region"] != region.cloud_region:
        return f"key in {parsed['cloud_region']}", "bad"
    return "yes", "ok"


FONT_FAMILY = re.compile(r"font-family\s*:\s*[^;}\"]+")


def _region_charts(region, since, until) -> list[dict]:
    """The region's metric charts, drawn by the metrics app when it is installed: the same SVG
    its pages show (in the report's font), for each metric the region released in the period."""
    try:
        from controlplane.metrics import charts  # noqa: PLC0415 - optional app
        from controlplane.metrics.models import MetricDefinition, MetricPoint  # noqa: PLC0415
    except ImportError:
        return []
    released = (
        MetricPoint.objects.filter(region=region, period_start__gte=since, period_start__lt=until)
        .values("metric")
        .distinct()
    )
    found = []
    for definition in MetricDefinition.objects.filter(pk__in=released).order_by("name"):
        try:
            svg = charts.region_chart(
                region=region, metric=definition.name, since=since, until=until
            )
        except Exception:  # noqa: BLE001 - a chart must not sink the report
            logger.exception("Chart %s of %s failed", definition.name, region.slug)
            continue
        found.append(
            {"title": definition.name, "svg": FONT_FAMILY.sub("font-family: 'Report Sans'", svg)}
        )
    return found


def _pairs(items: list) -> list[list]:
    return [items[i : i + 2] for i in range(0, len(items), 2)]


def regional_status(report: Report) -> Plan:
    regions = list(
        selectors.scope_regions(report).prefetch_related(
            "data_stores__key",
            "residency_rules__subject_country",
            "residency_rules__data_category",
            "residency_rules__home_jurisdiction",
            "residency_rules__data_store",
        )
    )
    start, end = report.period_start, report.period_end
    lo, hi = selectors.bounds(start, end)
    live_ok, live = models_selectors.live_versions(regions)
    agents = distribution.agents_with_drift(
        Agent.objects.filter(region__in=regions, revoked_at__isnull=True).select_related("region")
    )
    refused = {
        row["agent__region"]: row["n"]
        for row in Delivery.objects.filter(
            agent__region__in=regions,
            state=Delivery.State.REFUSED,
            updated_at__gte=lo,
            updated_at__lt=hi,
        )
        .values("agent__region")
        .order_by()
        .annotate(n=Count("pk"))
    }
    in_effect = list(
        TransferRequest.objects.filter(status__in=IN_EFFECT)
        .filter(Q(source_region__in=regions) | Q(destination_region__in=regions))
        .select_related(
            "source_region", "destination_region", "destination_country", "policy_mechanism"
        )
        .order_by("source_region__slug", "pk")
    )
    plan = Plan(
        title="Regional compliance status",
        header=f"Regional compliance status · {report.scope_label}",
        footer=f"Report {report.short_id} · as of {timezone.now():%Y-%m-%d %H:%M} UTC",
        cover={},
        sections=[],
    )
    plan.cover = _cover(report, regions, [("Regions", str(len(regions)))])
    blocks = []
    for region in regions:
        stores = []
        for store in region.data_stores.all():
            verdict, css = _key_in_region(store, region)
            stores.append({"store": store, "key_verdict": verdict, "css": css})
        desired = models_selectors.desired_versions_for_region(region)
        region_agents = [a for a in agents if a.region_id == region.pk]
        live_rows = []
        for item in desired:
            running = live.get((region.pk, item["name"]), [])
            live_rows.append({**item, "live": running})
        transfers = [
            t
            for t in in_effect
            if t.source_region_id == region.pk or t.destination_region_id == region.pk
        ]
        plan.digest.update(
            f"{region.slug}|{len(stores)}|{len(desired)}|{len(transfers)}\n".encode()
        )
        blocks.append(
            {
                "region": region,
                "stores": stores,
                "rules": list(region.residency_rules.all()),
                "models": live_rows,
                "live_ok": live_ok,
                "agents": region_agents,
                "refused": refused.get(region.pk, 0),
                "transfers": transfers,
                "charts": _pairs(_region_charts(region, lo, hi)),
                "metrics_installed": apps.is_installed("controlplane.metrics"),
            }
        )

    sections = []
    for block in blocks:

        def chunks(block=block):
            yield _chunk("reports/pdf/region.html", {"b": block, "start": start, "end": end})

        sections.append(
            Section(f"region-{block['region'].slug}", f"Region {block['region'].slug}", chunks)
        )
    sections.append(_verification_section(report, plan))
    plan.sections = sections
    return plan


# --- Audit extract -----------------------------------------------------------------------------


@dataclass
class ChainCheck:
    intact: bool = True
    checked: int = 0
    problem: str = ""
    first_sequence: int | None = None
    last_sequence: int | None = None
    first_previous_hash: str = ""
    last_hash: str = ""
    linked_to_predecessor: bool | None = None


def audit_extract(report: Report) -> Plan:
    regions = list(selectors.scope_regions(report))
    all_regions = not Region.objects.exclude(pk__in=[r.pk for r in regions]).exists()
    start, end = report.period_start, report.period_end
    events = selectors.audit_events_in_period(start=start, end=end)
    total_in_period = events.count()
    check = ChainCheck()
    shown = {"n": 0}
    plan = Plan(
        title="Audit extract",
        header=f"Audit extract · {report.scope_label}",
        footer=f"Report {report.short_id} · {start:%Y-%m-%d} to {end:%Y-%m-%d}",
        cover={},
        sections=[],
    )
    plan.cover = _cover(
        report,
        regions,
        [
            ("Events in the period (all regions)", str(total_in_period)),
            (
                "Events shown",
                "every event of the period"
                if all_regions
                else "events of the regions in scope, and of the shared register (mechanisms, "
                "parties, reference data)",
            ),
        ],
    )

    scope_slugs = {r.slug for r in regions}

    def in_scope(batch):
        """The same rule as the audit page (controlplane.web.audit_trail.visible_events): the
        events of the regions in scope, plus the shared register's region-less events; every
        region-less event when the scope is every region."""
        for event in batch:
            if event.region:
                if event.region in scope_slugs:
                    yield event
            elif all_regions or event.object_type in SHARED_REGISTER:
                yield event

    def extract():
        previous = None
        first = True
        for batch in _batched(events.iterator(chunk_size=chunk_rows()), chunk_rows()):
            for event in batch:
                _check_event(check, event, previous)
                previous = event
            rows = list(in_scope(batch))
            shown["n"] += len(rows)
            for event in rows:
                plan.digest.update(f"{event.sequence}|{event.hash}\n".encode())
                event.data_text = json.dumps(
                    event.data, sort_keys=True, ensure_ascii=False, separators=(", ", ": ")
                )
            yield _chunk(
                "reports/pdf/audit_events.html", {"events": rows, "first": first}, len(batch)
            )
            first = False
        if first:
            yield _chunk("reports/pdf/audit_events.html", {"events": [], "first": True})

    def verification_chunk():
        yield _chunk(
            "reports/pdf/audit_chain.html",
            {
                "check": check,
                "shown": shown["n"],
                "total": total_in_period,
                "start": start,
                "end": end,
            },
        )

    plan.sections = [
        Section("events", "Events", extract, weight=max(1, total_in_period)),
        Section("chain", "Hash chain verification", verification_chunk),
        _verification_section(report, plan),
    ]
    return plan


def _check_event(check: ChainCheck, event: AuditEvent, previous: AuditEvent | None) -> None:
    if check.first_sequence is None:
        check.first_sequence = event.sequence
        check.first_previous_hash = event.previous_hash
        if event.sequence == 1:
            check.linked_to_predecessor = event.previous_hash == GENESIS_HASH
        else:
            before = (
                AuditEvent.objects.filter(sequence=event.sequence - 1)
                .values_list("hash", flat=True)
                .first()
            )
            check.linked_to_predecessor = before == event.previous_hash
            if not check.linked_to_predecessor and check.intact:
                check.intact = False
                check.problem = (
                    f"event #{event.sequence} does not link to event #{event.sequence - 1}"
                )
    check.last_sequence = event.sequence
    check.last_hash = event.hash
    check.checked += 1
    if not check.intact:
        return
    if previous is not None:
        if event.sequence != previous.sequence + 1:
            check.intact = False
            check.problem = f"sequence jumps from #{previous.sequence} to #{event.sequence} (an event is missing)"
            return
        if event.previous_hash != previous.hash:
            check.intact = False
            check.problem = (
                f"event #{event.sequence} does not link to the hash of #{previous.sequence}"
            )
            return
    if event.compute_hash() != event.hash:
        check.intact = False
        check.problem = f"event #{event.sequence} does not match its hash (it was altered)"


BUILDERS = {
    ReportKind.RECORD_OF_TRANSFERS: record_of_transfers,
    ReportKind.MECHANISM_INVENTORY: mechanism_inventory,
    ReportKind.REGIONAL_STATUS: regional_status,
    ReportKind.AUDIT_EXTRACT: audit_extract,
}
