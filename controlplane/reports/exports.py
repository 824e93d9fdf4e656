"""CSV and JSON exports of the registers, streamed.

Each dataset names its columns and its list page's ``Listing``: the page's rows, FilterSet and
default filters, query string and all (``q``, ``ordering``). So an export holds exactly the
rows the list shows, in its order (all of them, not one page), and a filter value the page
refuses is refused here with the same sentence. Rows are read with ``iterator()`` and written
one by one into a ``StreamingHttpResponse``: a large table never sits in memory, in the
database driver or here.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone

from controlplane.modelregistry.lists import DEPLOYMENT_QUEUE
from controlplane.transfers.lists import MECHANISMS as MECHANISM_LIST
from controlplane.transfers.lists import REGISTER as REGISTER_LIST
from controlplane.transfers.lists import TRANSFER_LOG as TRANSFER_LOG_LIST
from controlplane.web.audit_trail import AUDIT_TRAIL
from controlplane.web.lists import Listing

CHUNK = 1000
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


@dataclass(frozen=True)
class Column:
    name: str
    value: Callable[[object], object]


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: str
    columns: tuple[Column, ...]
    listing: Listing  # the list page whose rows it exports


def _slug(obj, attr="slug"):
    return getattr(obj, attr) if obj is not None else None


def _names(manager, attr="key"):
    return [getattr(item, attr) for item in manager.all()]


# --- Datasets ----------------------------------------------------------------------------------


REGISTER = Dataset(
    "transfer-register",
    "Transfer register",
    (
        Column("reference", str),
        Column("status", lambda t: t.status),
        Column("source_region", lambda t: t.source_region.slug),
        Column("destination_country", lambda t: t.destination_country.code),
        Column("destination_region", lambda t: _slug(t.destination_region)),
        Column("exporter", lambda t: t.exporter.name),
        Column("exporter_country", lambda t: t.exporter.country.code),
        Column("exporter_role", lambda t: t.exporter_role),
        Column("importer", lambda t: t.importer.name),
        Column("importer_country", lambda t: t.importer.country.code),
        Column("importer_role", lambda t: t.importer_role),
        Column("data_categories", lambda t: _names(t.data_categories)),
        Column("special_categories", lambda t: t.has_special_categories),
        Column("data_subjects", lambda t: t.data_subjects),
        Column("purpose", lambda t: t.purpose),
        Column("frequency", lambda t: t.frequency),
        Column("legal_basis", lambda t: t.policy_basis),
        Column("mechanism", lambda t: _slug(t.policy_mechanism, "key")),
        Column("derogation", lambda t: t.derogation),
        Column("policy_allowed", lambda t: t.policy_allowed),
        Column("requested_by", lambda t: t.requested_by.get_username()),
        Column("submitted_at", lambda t: t.submitted_at),
        Column("decided_by", lambda t: t.decided_by.get_username() if t.decided_by_id else None),
        Column("decided_at", lambda t: t.decided_at),
        Column("conditions", lambda t: t.conditions),
        Column("expires_on", lambda t: t.expires_on),
        Column("ended_at", lambda t: t.ended_at),
        Column("end_reason", lambda t: t.end_reason),
    ),
    REGISTER_LIST,
)

MECHANISMS = Dataset(
    "mechanisms",
    "Mechanism inventory",
    (
        Column("key", lambda m: m.key),
        Column("kind", lambda m: m.kind),
        Column("name", lambda m: m.name),
        Column("reference", lambda m: m.reference),
        Column("status", lambda m: m.status),
        Column("valid_from", lambda m: m.valid_from),
        Column("ends_on", lambda m: m.ends_on),
        Column("review_on", lambda m: m.review_on),
        Column("tia_expires_on", lambda m: m.tia_expires_on()),
        Column("from_jurisdiction", lambda m: _slug(m.from_jurisdiction, "code")),
        Column("to_country", lambda m: _slug(m.to_country, "code")),
        Column("to_jurisdiction", lambda m: _slug(m.to_jurisdiction, "code")),
        Column("scope", lambda m: m.scope),
        Column("exporter", lambda m: _slug(m.exporter, "name")),
        Column("importer", lambda m: _slug(m.importer, "name")),
        Column("module", lambda m: m.module),
        Column("group", lambda m: m.group),
        Column("verified", lambda m: m.verified),
    ),
    MECHANISM_LIST,
)

TRANSFER_LOG = Dataset(
    "transfer-log",
    "Transfer log",
    (
        Column("id", lambda r: r.pk),
        Column("executed_at", lambda r: r.executed_at),
        Column("source_region", lambda r: r.source_region.slug),
        Column("destination_country", lambda r: r.destination_country.code),
        Column("destination_region", lambda r: _slug(r.destination_region)),
        Column("exporter", lambda r: r.exporter_name),
        Column("importer", lambda r: r.importer_name),
        Column("categories", lambda r: list(r.categories)),
        Column("volume", lambda r: r.volume),
        Column("request", lambda r: str(r.request) if r.request_id else None),
        Column("legal_basis", lambda r: r.legal_basis),
        Column("violation", lambda r: r.violation),
        Column("violation_reason", lambda r: r.violation_reason),
        Column("reported_by", lambda r: r.reported_by),
        Column("recorded_at", lambda r: r.recorded_at),
    ),
    TRANSFER_LOG_LIST,
)

DEPLOYMENTS = Dataset(
    "deployments",
    "Model deployments",
    (
        Column("reference", str),
        Column("model", lambda a: a.version.model.name),
        Column("version", lambda a: a.version.version),
        Column("digest", lambda a: a.version.digest),
        Column("region", lambda a: a.region.slug),
        Column("status", lambda a: a.status),
        Column("desired", lambda a: a.is_desired),
        Column("policy_allowed", lambda a: a.policy_allowed),
        Column("requested_by", lambda a: a.requested_by.get_username()),
        Column("requested_at", lambda a: a.requested_at),
        Column("decided_by", lambda a: a.decided_by.get_username() if a.decided_by_id else None),
        Column("decided_at", lambda a: a.decided_at),
        Column("decision_note", lambda a: a.decision_note),
        Column("retired_at", lambda a: a.retired_at),
    ),
    DEPLOYMENT_QUEUE,
)


AUDIT = Dataset(
    "audit",
    "Audit trail",
    (
        Column("sequence", lambda e: e.sequence),
        Column("occurred_at", lambda e: e.occurred_at),
        Column("actor_kind", lambda e: e.actor_kind),
        Column("actor", lambda e: e.actor_label),
        Column("action", lambda e: e.action),
        Column("object_type", lambda e: e.object_type),
        Column("object_id", lambda e: e.object_id),
        Column("object", lambda e: e.object_repr),
        Column("region", lambda e: e.region),
        Column("data", lambda e: e.data),
        Column("previous_hash", lambda e: e.previous_hash),
        Column("hash", lambda e: e.hash),
    ),
    AUDIT_TRAIL,
)

DATASETS = {d.slug: d for d in (REGISTER, MECHANISMS, TRANSFER_LOG, DEPLOYMENTS, AUDIT)}


# --- Streaming ----------------------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _safe_text(value):
    """Defuse spreadsheet formulas (CSV injection): a cell never starts with = + - @."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_lines(rows: Iterable, columns) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([c.name for c in columns])  # BOM: spreadsheets read UTF-8
    for row in rows:
        yield writer.writerow([_safe_text(_cell(c.value(row))) for c in columns])


def json_lines(rows: Iterable, columns) -> Iterator[str]:
    yield "["
    first = True
    for row in rows:
        item = {c.name: c.value(row) for c in columns}
        text = json.dumps(item, cls=DjangoJSONEncoder, ensure_ascii=False)
        yield ("\n" if first else ",\n") + text
        first = False
    yield "\n]\n"


def rows_of(dataset: Dataset, request, params):
    """The list page's rows for ``params``, read ``CHUNK`` at a time (related rows are
    prefetched per chunk: a fixed number of queries per chunk, never one per row)."""
    return dataset.listing.filter(request, params).iterator(chunk_size=CHUNK)


def response(slug: str, fmt: str, request, params) -> StreamingHttpResponse:
    """The export of ``slug`` as ``fmt``. Raises ``Http404`` for an unknown one,
    ``PermissionDenied`` when the list is closed to the person, ``BadFilters`` (a 400) when
    the list page would refuse ``params``."""
    dataset = DATASETS.get(slug)
    if dataset is None or fmt not in FORMATS:
        raise Http404("No such export.")
    rows = rows_of(dataset, request, params)
    lines = csv_lines(rows, dataset.columns) if fmt == "csv" else json_lines(rows, dataset.columns)
    result = StreamingHttpResponse(lines, content_type=FORMATS[fmt])
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    result["Content-Disposition"] = f'attachment; filename="{slug}-{stamp}.{fmt}"'
    result["Cache-Control"] = "no-store"
    return result
