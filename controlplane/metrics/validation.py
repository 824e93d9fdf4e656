"""Is a batch of metric aggregates acceptable? A pure, strict check of the agent's raw body.

``check_batch()`` takes the request body as bytes and the region's catalogue and answers either
the accepted items or every reason for refusal. A batch is all or nothing: one bad item refuses
the whole batch. Reasons name *where* the problem is with paths built from our own schema
(``items[3].dimensions.model_version``) and never echo a value or a key the agent sent, so the
refusal log can keep them without keeping personal data.

Order of checks: size; JSON (no NaN, no duplicate keys); the personal-data detector over every
string anywhere in the document (keys included); then the schema, the catalogue and the numbers.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from controlplane.metrics.catalogue import COUNTER
from controlplane.privacy import personal_data_kinds

MAX_BODY_BYTES = 1024 * 1024
MAX_ITEMS = 2000
MAX_REASONS = 50
MAX_DEPTH = 8
MAX_COUNT = 10**9
PERIODS = (60, 300, 900, 3600)  # seconds; a period starts on a multiple of its length
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")
TIME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
BATCH_FIELDS = frozenset(
    {"idempotency_key", "period_start", "period_seconds", "items", "suppressed"}
)
ITEM_FIELDS = frozenset({"metric", "dimensions", "value", "count"})


@dataclass(frozen=True)
class Item:
    metric: str
    dimensions: dict
    value: float
    count: int

    @property
    def dims_key(self) -> str:
        return dims_key(self.dimensions)


@dataclass
class Checked:
    key: str = ""
    period_start: datetime | None = None
    period_seconds: int = 0
    suppressed: int = 0
    items: list[Item] = field(default_factory=list)
    reasons: list[dict] = field(default_factory=list)
    more_reasons: int = 0

    @property
    def accepted(self) -> bool:
        return not self.reasons

    def refuse(self, path: str, code: str, message: str) -> None:
        if len(self.reasons) >= MAX_REASONS:
            self.more_reasons += 1
            return
        self.reasons.append({"field": path, "code": code, "message": message})

    @property
    def codes(self) -> list[str]:
        return sorted({r["code"] for r in self.reasons})


def dims_key(dimensions: dict) -> str:
    """A canonical string for a dimension set, unique per combination ('' for none)."""
    return "|".join(f"{k}={dimensions[k]}" for k in sorted(dimensions))


class _Duplicate(ValueError):
    pass


def _no_duplicates(pairs):
    out = {}
    for key, value in pairs:
        if key in out:
            raise _Duplicate()
        out[key] = value
    return out


def _no_constant(name):
    raise ValueError(name)


def _parse(body: bytes, checked: Checked):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        checked.refuse("body", "invalid_json", "The body is not UTF-8.")
        return None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _Duplicate:
        checked.refuse("body", "duplicate_key", "A JSON object repeats a key.")
    except (ValueError, RecursionError):
        checked.refuse("body", "invalid_json", "The body is not a JSON document of finite numbers.")
    return None


def _scan_strings(node, path: str, checked: Checked, depth: int = 0) -> None:
    """The detector over every string in the document, keys included, at any depth."""
    if depth > MAX_DEPTH:
        checked.refuse(path, "too_deep", f"Nesting deeper than {MAX_DEPTH} levels.")
        return
    if isinstance(node, dict):
        for position, (key, value) in enumerate(node.items(), start=1):
            child = f"{path}.{key}" if _is_schema_word(key) else f"{path}.<key {position}>"
            _check_string(key, f"{child} (key)", checked)
            _scan_strings(value, child, checked, depth + 1)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _scan_strings(value, f"{path}[{index}]", checked, depth + 1)
    elif isinstance(node, str):
        _check_string(node, path, checked)


SCHEMA_WORDS = BATCH_FIELDS | ITEM_FIELDS | {"model_version", "reason"}


def _is_schema_word(key) -> bool:
    return key in SCHEMA_WORDS


def _check_string(text: str, path: str, checked: Checked) -> None:
    kinds = personal_data_kinds(text)
    if kinds:
        checked.refuse(
            path, "personal_data", f"This looks like personal data ({', '.join(kinds)})."
        )
    elif not text.isascii():
        checked.refuse(path, "not_ascii", "Only ASCII text: catalogue names and values are ASCII.")


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _unknown(obj: dict, allowed: frozenset, path: str, checked: Checked) -> None:
    for position, key in enumerate(obj, start=1):
        if key not in allowed:
            checked.refuse(f"{path}.<key {position}>", "unknown_field", "Unknown field.")


def _period(data: dict, checked: Checked, *, now: datetime, retention: timedelta) -> None:
    seconds = data.get("period_seconds")
    if not (isinstance(seconds, int) and not isinstance(seconds, bool) and seconds in PERIODS):
        checked.refuse(
            "period_seconds", "invalid_period", f"One of {', '.join(map(str, PERIODS))}."
        )
        seconds = None
    raw = data.get("period_start")
    if not (isinstance(raw, str) and TIME_PATTERN.match(raw)):
        checked.refuse("period_start", "invalid_time", "A UTC time such as 2026-11-26T10:05:00Z.")
        return
    try:
        start = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        checked.refuse("period_start", "invalid_time", "Not a calendar time.")
        return
    if seconds is None:
        return
    if int(start.timestamp()) % seconds:
        checked.refuse(
            "period_start", "unaligned_period", f"A period starts on a multiple of {seconds}s."
        )
    if start + timedelta(seconds=seconds) > now:
        checked.refuse("period_start", "future_period", "The period has not ended yet.")
    if start < now - retention:
        checked.refuse(
            "period_start", "expired_period", "The period is older than raw-metric retention."
        )
    checked.period_start, checked.period_seconds = start, seconds


def _item(raw, index: int, catalogue: dict, k: int, checked: Checked, seen: set) -> None:
    path = f"items[{index}]"
    if not isinstance(raw, dict):
        checked.refuse(path, "invalid_item", "An item is an object.")
        return
    _unknown(raw, ITEM_FIELDS, path, checked)
    metric = raw.get("metric")
    entry = catalogue.get(metric) if isinstance(metric, str) else None
    if entry is None:
        checked.refuse(f"{path}.metric", "unknown_metric", "Not a metric of the catalogue.")
    dimensions = raw.get("dimensions", {})
    dims_ok = isinstance(dimensions, dict) and all(isinstance(v, str) for v in dimensions.values())
    if not dims_ok:
        checked.refuse(f"{path}.dimensions", "invalid_dimensions", "An object of strings.")
    elif entry is not None:
        allowed = entry["dimensions"]
        for position, (name, value) in enumerate(dimensions.items(), start=1):
            if name not in allowed:
                checked.refuse(
                    f"{path}.dimensions.<key {position}>",
                    "unknown_dimension",
                    "Not a dimension of this metric.",
                )
            elif value not in allowed[name]:
                checked.refuse(
                    f"{path}.dimensions.{name}",
                    "unknown_value",
                    "Not a value the catalogue allows for this region.",
                )
        if sorted(dimensions) not in [sorted(s) for s in entry["dimension_sets"]]:
            checked.refuse(
                f"{path}.dimensions",
                "invalid_dimension_set",
                "Not one of the metric's dimension sets.",
            )
    count = raw.get("count")
    if not (isinstance(count, int) and not isinstance(count, bool)):
        checked.refuse(f"{path}.count", "invalid_count", "An integer.")
        count = None
    elif count < k:
        checked.refuse(
            f"{path}.count", "below_k", f"Fewer than k={k} observations: suppress it in the region."
        )
    elif count > MAX_COUNT:
        checked.refuse(f"{path}.count", "out_of_range", f"At most {MAX_COUNT}.")
    value = raw.get("value")
    if not _is_number(value) or not math.isfinite(value):
        checked.refuse(f"{path}.value", "invalid_value", "A finite number.")
        value = None
    elif entry is not None:
        low, high = entry["minimum"], entry["maximum"]
        if entry["kind"] == COUNTER and count is not None:
            low, high = low * count, high * count
        if not low <= value <= high:
            checked.refuse(
                f"{path}.value", "out_of_range", f"Outside [{low:g}, {high:g}] for this metric."
            )
    if entry is None or not dims_ok or value is None or count is None:
        return
    identity = (metric, dims_key(dimensions))
    if identity in seen:
        checked.refuse(path, "duplicate_item", "The batch repeats this metric and dimension set.")
        return
    seen.add(identity)
    checked.items.append(Item(metric, dict(dimensions), float(value), count))


def check_batch(
    body: bytes,
    *,
    catalogue: dict,
    k: int,
    now: datetime,
    retention: timedelta,
    max_bytes: int = MAX_BODY_BYTES,
    max_items: int = MAX_ITEMS,
) -> Checked:
    """Check one batch. ``catalogue`` maps metric name -> the entry ``catalogue.resolve`` made."""
    checked = Checked()
    if len(body) > max_bytes:
        checked.refuse("body", "too_large", f"The body exceeds {max_bytes} bytes.")
        return checked
    data = _parse(body, checked)
    if not checked.accepted:
        return checked
    _scan_strings(data, "batch", checked)
    if not isinstance(data, dict):
        checked.refuse("body", "invalid_batch", "The body is a JSON object.")
        return checked
    _unknown(data, BATCH_FIELDS, "batch", checked)
    key = data.get("idempotency_key")
    if not (isinstance(key, str) and KEY_PATTERN.match(key)):
        checked.refuse(
            "idempotency_key", "invalid_key", "8 to 100 characters: letters, digits and . _ : -"
        )
    else:
        checked.key = key
    _period(data, checked, now=now, retention=retention)
    suppressed = data.get("suppressed", 0)
    if not (
        isinstance(suppressed, int)
        and not isinstance(suppressed, bool)
        and 0 <= suppressed <= MAX_COUNT  # the column holds 32 bits
    ):
        checked.refuse("suppressed", "invalid_count", f"A whole number from 0 to {MAX_COUNT}.")
    else:
        checked.suppressed = suppressed
    items = data.get("items")
    if not isinstance(items, list) or not items:
        checked.refuse("items", "invalid_items", "A non-empty list.")
        return checked
    if len(items) > max_items:
        checked.refuse("items", "too_many_items", f"At most {max_items} items per batch.")
        return checked
    seen: set = set()
    for index, raw in enumerate(items):
        _item(raw, index, catalogue, k, checked, seen)
    if not checked.accepted:
        checked.items = []
    return checked


def body_digest(body: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(body).hexdigest()
