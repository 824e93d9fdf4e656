"""The ingestion router: where does a record live, decided from its metadata only.

``route(metadata, content)`` is a pure function over the bundle's ``content`` (see
``docs/agent-protocol.md`` for its shape). It never sees the record itself, only:

* ``subject_country``: ISO 3166-1 alpha-2 country of the data subject: exactly two ASCII
  letters once surrounding whitespace is stripped; anything else is refused,
* ``data_categories``: dotted category keys (``user.contact.email``), matched exactly against
  the bundle's taxonomy (``content["categories"]``); an unknown key is refused,
* ``contract_tags``: free labels from the contract the record arrived under.

Residency rules are ordered by ``position``; each sets any of ``subject_country``,
``data_category`` (matches the category and everything below it) and ``contract_tag``, all of
which must hold (a rule that sets none matches everything). The first match names the record's
home jurisdiction and, for a local record, its data store. No match means refusal (default
deny). A record whose home is elsewhere is refused unless an active transfer in the bundle covers
the move from its home jurisdiction into this one for all of its categories; it then lands where
a local record with the same categories and tags would.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime

from agents.protocol import MalformedError, parse_time, utcnow

_CATEGORY_KEY = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
MAX_CATEGORIES = 64


def normalise_country(value: str) -> str:
    """Exactly two ASCII letters once surrounding whitespace is stripped, upper-cased.

    Anything else (a zero-width space, full-width letters, three letters, an embedded space) is
    refused rather than reinterpreted.
    """
    text = value.strip(" \t\r\n")
    if len(text) != 2 or not text.isascii() or not text.isalpha():
        raise MalformedError(f"subject_country must be two ASCII letters, got {value[:20]!r}")
    return text.upper()


def check_categories(categories, taxonomy) -> tuple[str, ...]:
    """Category keys are matched exactly: lower-case dotted keys of the bundle's taxonomy."""
    if len(categories) > MAX_CATEGORIES:
        raise MalformedError(f"more than {MAX_CATEGORIES} data categories")
    known = set(taxonomy) if taxonomy else None
    for key in categories:
        if not _CATEGORY_KEY.fullmatch(key) or (known is not None and key not in known):
            raise UnknownCategoryError(f"unknown data category {key[:80]!r}")
    return tuple(categories)


class UnknownCategoryError(MalformedError):
    code = "unknown_category"


@dataclass(frozen=True)
class RecordMetadata:
    subject_country: str = ""
    data_categories: tuple[str, ...] = ()
    contract_tags: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data) -> RecordMetadata:
        if not isinstance(data, dict):
            raise MalformedError("metadata must be an object")
        allowed = {"subject_country", "data_categories", "contract_tags"}
        unknown = set(data) - allowed
        if unknown:
            # Metadata only: anything else might be the record itself.
            raise MalformedError(f"unknown metadata fields: {', '.join(sorted(unknown))}")
        country = data.get("subject_country") or ""
        if not isinstance(country, str):
            raise MalformedError("subject_country must be a string")
        cats = data.get("data_categories") or []
        tags = data.get("contract_tags") or []
        if not isinstance(cats, list | tuple) or not isinstance(tags, list | tuple):
            raise MalformedError("data_categories and contract_tags must be lists of strings")
        if not all(isinstance(c, str) for c in cats) or not all(isinstance(t, str) for t in tags):
            raise MalformedError("data_categories and contract_tags must be lists of strings")
        return cls(normalise_country(country) if country else "", tuple(cats), tuple(tags))


@dataclass(frozen=True)
class RouteDecision:
    accepted: bool
    code: str
    message: str
    home_jurisdiction: str | None = None
    data_store: str | None = None
    rule: int | None = None
    transfer: str | None = None
    tags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def category_covers(granted: str, category: str) -> bool:
    """``user.health`` covers ``user.health`` and ``user.health.genetic``, not ``user.healthy``."""
    return category == granted or category.startswith(granted + ".")


def _rule_matches(rule: dict, meta: RecordMetadata, *, ignore_country: bool = False) -> bool:
    """Every condition the rule sets must hold; a blank condition matches anything."""
    country = rule.get("subject_country")
    if country and not ignore_country and meta.subject_country != str(country).upper():
        return False
    category = rule.get("data_category")
    if category and not any(category_covers(category, c) for c in meta.data_categories):
        return False
    tag = rule.get("contract_tag")
    if tag and tag not in meta.contract_tags:
        return False
    return True


def _local_store(rules: list[dict], meta: RecordMetadata, here: str) -> str | None:
    """For a record admitted under a transfer: where it would land if its subject were local."""
    for rule in rules:
        if rule.get("home_jurisdiction") == here and rule.get("data_store"):
            if _rule_matches(rule, meta, ignore_country=True):
                return rule["data_store"]
    return None


def _active(transfer: dict, now: datetime) -> bool:
    if transfer.get("status", "active") != "active":
        return False
    start, end = transfer.get("valid_from"), transfer.get("valid_until")
    if start and parse_time(start) > now:
        return False
    if end and parse_time(end) <= now:
        return False
    return True


def _covering_transfer(
    transfers: list[dict], *, home: str, here: str, region: str, meta: RecordMetadata, now
) -> dict | None:
    for transfer in transfers:
        if not _active(transfer, now):
            continue
        if transfer.get("from_jurisdiction") != home:
            continue
        to_region = transfer.get("to_region")
        if to_region and to_region != region:
            continue
        if not to_region and transfer.get("to_jurisdiction") != here:
            continue
        granted = transfer.get("categories") or []
        # A transfer is limited to its categories: a record with none is never covered by it.
        if not granted or not meta.data_categories:
            continue
        if all(any(category_covers(g, c) for g in granted) for c in meta.data_categories):
            return transfer
    return None


def route(metadata, content: dict, *, now: datetime | None = None) -> RouteDecision:
    """Decide the home jurisdiction and data store of a record. Pure; default deny."""
    now = now or utcnow()
    meta = metadata if isinstance(metadata, RecordMetadata) else RecordMetadata.from_dict(metadata)
    check_categories(meta.data_categories, content.get("categories"))
    region_info = content.get("region") or {}
    region = region_info.get("slug", "")
    here = region_info.get("jurisdiction", "")
    if not meta.subject_country and not meta.data_categories and not meta.contract_tags:
        return RouteDecision(False, "no_metadata", "the record carries no routing metadata")

    rules = sorted(content.get("residency_rules") or [], key=lambda r: r.get("position", 0))
    matched = next((r for r in rules if _rule_matches(r, meta)), None)
    if matched is None:
        return RouteDecision(
            False, "no_rule", "no residency rule matches this record (default deny)"
        )
    home = matched.get("home_jurisdiction")
    position = matched.get("position")
    tags = [f"home:{home}", f"region:{region}", f"rule:{position}"]
    tags += [f"category:{c}" for c in meta.data_categories]
    special = set(content.get("special_categories") or [])
    if any(any(category_covers(s, c) for s in special) for c in meta.data_categories):
        tags.append("special-category")

    transfer_id = None
    store_name = matched.get("data_store")
    if home != here:
        transfer = _covering_transfer(
            content.get("transfers") or [], home=home, here=here, region=region, meta=meta, now=now
        )
        if transfer is None:
            return RouteDecision(
                False,
                "home_elsewhere",
                f"record belongs to {home}; this region is in {here} and no active transfer "
                f"covers it",
                home_jurisdiction=home,
                rule=position,
                tags=tags,
            )
        transfer_id = str(transfer.get("id"))
        tags.append(f"transfer:{transfer_id}")
        store_name = _local_store(rules, meta, here)

    stores = {s.get("name"): s for s in content.get("data_stores") or []}
    store = stores.get(store_name) if store_name else None
    if store is None:
        return RouteDecision(
            False,
            "no_store",
            "the matching rule names no data store in this region",
            home_jurisdiction=home,
            rule=position,
            transfer=transfer_id,
            tags=tags,
        )
    tags.append(f"store:{store_name}")
    if store.get("retention_days") is not None:
        tags.append(f"retention:{store['retention_days']}d")
    return RouteDecision(
        True,
        "accepted",
        f"store in {store_name} ({home})",
        home_jurisdiction=home,
        data_store=store_name,
        rule=position,
        transfer=transfer_id,
        tags=tags,
    )
