"""Reads for reports: which reports a person sees, and the rows each report is built from.

Every row source takes the report's scope (regions, period) and returns a lazy queryset, read
with ``iterator()`` by the builders, so a report never holds a whole table in memory.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from controlplane.audit.models import AuditEvent
from controlplane.modelregistry.models import DeploymentApproval, DeploymentStatus
from controlplane.permissions import Role, has_role, restrict
from controlplane.reports.models import Report
from controlplane.transfers import policy as p
from controlplane.transfers.models import Mechanism, Party, TransferRecord, TransferRequest
from regions.models import Country, DataCategory, Region

DECIDED = ("approved", "active", "suspended", "expired", "revoked")
TR_REF = re.compile(r"\bTR-(\d+)\b")


def visible_reports(user):
    """Reports whose whole scope the user may view (a DPO: only reports within their regions)."""
    return (
        restrict(Report.objects.all(), user, "view")
        .select_related("requested_by")
        .prefetch_related("regions")
    )


def may_download(user) -> bool:
    return bool(user.is_superuser or has_role(user, Role.AUDITOR, Role.DPO))


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, the day after end 00:00) in the current time zone."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )


# --- Record of transfers -------------------------------------------------------------------


def transfers_in_record(*, regions, start: date, end: date):
    """Requests approved on or before ``end`` that were in effect or ended in the period."""
    lo, hi = bounds(start, end)
    executed = (
        TransferRecord.objects.filter(
            request=OuterRef("pk"), executed_at__gte=lo, executed_at__lt=hi
        )
        .order_by()
        .values("request")
    )
    return (
        TransferRequest.objects.filter(
            source_region__in=regions, status__in=DECIDED, decided_at__lt=hi
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=lo))
        .annotate(
            executed_count=Coalesce(Subquery(executed.annotate(n=Count("pk")).values("n")), 0),
            executed_volume=Coalesce(Subquery(executed.annotate(v=Sum("volume")).values("v")), 0),
        )
        .order_by("source_region__slug", "pk")
    )


class RecordRelations:
    """What the record's rows point at (regions, countries, parties, mechanisms, people, data
    categories), read once per batch of rows for the ids not seen yet and shared by every row:
    10,000 transfers point at a handful of each, and a join per row built a dozen model
    instances per row."""

    def __init__(self):
        self.sources = {
            "region": (Region.objects.all(), {}),
            "country": (Country.objects.all(), {}),
            "party": (Party.objects.select_related("country"), {}),
            "mechanism": (Mechanism.objects.all(), {}),
            "person": (get_user_model().objects.all(), {}),
            "category": (DataCategory.objects.all(), {}),
        }
        self.categories: dict[int, list] = {}

    def __getitem__(self, kind: str) -> dict:
        return self.sources[kind][1]

    def _need(self, kind: str, ids) -> None:
        queryset, known = self.sources[kind]
        missing = {i for i in ids if i is not None and i not in known}
        if missing:
            known.update(queryset.in_bulk(missing))

    def load(self, batch) -> None:
        """Read what ``batch`` (requests) points at and each one's data categories."""
        links = list(
            TransferRequest.data_categories.through.objects.filter(
                transferrequest_id__in=[tr.pk for tr in batch]
            ).values_list("transferrequest_id", "datacategory_id")
        )
        self._need("region", [tr.source_region_id for tr in batch])
        self._need("region", [tr.destination_region_id for tr in batch])
        self._need("country", [tr.destination_country_id for tr in batch])
        self._need("party", [tr.exporter_id for tr in batch] + [tr.importer_id for tr in batch])
        self._need(
            "mechanism",
            [tr.policy_mechanism_id for tr in batch] + [tr.chosen_mechanism_id for tr in batch],
        )
        self._need("person", [tr.decided_by_id for tr in batch])
        self._need("category", [category for _, category in links])
        self.categories = {tr.pk: [] for tr in batch}
        for request, category in links:
            self.categories[request].append(self["category"][category])


def record_totals(*, regions, start: date, end: date) -> dict:
    """Counts per source region and status, and the transfer log's totals (a few queries)."""
    lo, hi = bounds(start, end)
    by_region = {
        row["source_region__slug"]: row
        for row in transfers_in_record(regions=regions, start=start, end=end)
        .order_by()
        .values("source_region__slug")
        .annotate(
            transfers=Count("pk"),
            in_effect=Count("pk", filter=Q(status__in=("approved", "active"))),
            ended=Count("pk", filter=~Q(status__in=("approved", "active"))),
            special=Count("pk", filter=Q(has_special_categories=True)),
        )
    }
    log = {
        row["source_region__slug"]: row
        for row in executed_records(regions=regions, start=start, end=end)
        .order_by()
        .values("source_region__slug")
        .annotate(
            records=Count("pk"),
            volume=Coalesce(Sum("volume"), 0),
            violations=Count("pk", filter=Q(violation=True)),
        )
    }
    by_basis = list(
        executed_records(regions=regions, start=start, end=end)
        .order_by()
        .values("source_region__slug", "legal_basis")
        .annotate(records=Count("pk"), volume=Coalesce(Sum("volume"), 0))
        .order_by("source_region__slug", "legal_basis")
    )
    return {"by_region": by_region, "log": log, "log_by_basis": by_basis}


def executed_records(*, regions, start: date, end: date):
    lo, hi = bounds(start, end)
    return TransferRecord.objects.filter(
        source_region__in=regions, executed_at__gte=lo, executed_at__lt=hi
    )


def violations(*, regions, start: date, end: date):
    return (
        executed_records(regions=regions, start=start, end=end)
        .filter(violation=True)
        .select_related("source_region", "destination_country", "destination_region")
        .order_by("source_region__slug", "executed_at", "pk")
    )


# --- Mechanism inventory -------------------------------------------------------------------


def mechanisms_in_use(*, start: date, end: date):
    """Every mechanism in force, or that ended during the period, with its relations."""
    return (
        Mechanism.objects.filter(valid_from__lte=end)
        .filter(Q(status=p.IN_FORCE) | Q(ends_on__isnull=True) | Q(ends_on__gte=start))
        .with_relations()
        .order_by("kind", "name")
    )


def transfers_relying_on(*, regions, mechanism_ids):
    """{mechanism id: [requests in effect relying on it, from the scope's regions]}."""
    found: dict = {}
    rows = (
        TransferRequest.objects.filter(
            policy_mechanism__in=mechanism_ids,
            source_region__in=regions,
            status__in=("approved", "active"),
        )
        .select_related("source_region", "destination_country", "destination_region")
        .order_by("pk")
    )
    for tr in rows:
        found.setdefault(tr.policy_mechanism_id, []).append(tr)
    return found


def deployments_relying_on(*, regions, transfers_by_mechanism) -> dict:
    """{mechanism id: [approved deployments whose recorded check named one of its transfers]}."""
    by_transfer: dict = {}
    for mechanism_id, transfers in transfers_by_mechanism.items():
        for tr in transfers:
            by_transfer[tr.pk] = mechanism_id
    found: dict = {}
    approvals = (
        DeploymentApproval.objects.filter(region__in=regions, status=DeploymentStatus.APPROVED)
        .select_related("version__model", "region")
        .order_by("region__slug", "pk")
    )
    for approval in approvals:
        named = {
            int(ref)
            for finding in approval.policy_findings
            if finding.get("code") == "TRANSFER_COVERS"
            for ref in TR_REF.findall(finding.get("message", ""))
        }
        for mechanism_id in {by_transfer[t] for t in named if t in by_transfer}:
            found.setdefault(mechanism_id, []).append(approval)
    return found


# --- Regional status -------------------------------------------------------------------------


def scope_regions(report: Report):
    return (
        Region.objects.filter(pk__in=report.regions.values("pk"))
        .select_related("jurisdiction", "country")
        .order_by("slug")
    )


# --- Audit extract ---------------------------------------------------------------------------


def audit_events_in_period(*, start: date, end: date):
    lo, hi = bounds(start, end)
    return AuditEvent.objects.filter(occurred_at__gte=lo, occurred_at__lt=hi).order_by("sequence")
