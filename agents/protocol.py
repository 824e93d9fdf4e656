"""The bundle format: the one definition, shared by both sides.

Trust (signatures, keys and their rotation, rollback, freeze, mix-and-match, lengths) is The
Update Framework's, through ``python-tuf``: the control plane is a TUF repository
(``controlplane/distribution/repository.py``), the agent a ``tuf.ngclient.Updater``
(``agents/tufclient.py``). A region's bundle is the one target of the region's delegated role,
``<region>/bundle.json``; this module defines its bytes and checks its shape once TUF has
verified its length and hashes.

Bundle (canonical JSON: keys sorted, no insignificant whitespace, UTF-8, no NaN/Infinity)::

    {"schema": "sovereign.bundle/v2", "region": "eu-central", "version": 7,
     "issued": "2026-03-02T09:00:00Z", "content": {...}, "content_digest": "sha256:..."}

The bundle's digest is ``sha256:<hex>`` of those bytes (also the sha256 TUF lists).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from agents.transport import parse_json

BUNDLE_SCHEMA = "sovereign.bundle/v2"
KNOWN_BUNDLE_SCHEMAS = frozenset({BUNDLE_SCHEMA})
MAX_BUNDLE_BYTES = 8 * 1024 * 1024
BUNDLE_TARGET = "bundle.json"


def target_path(region: str) -> str:
    """The TUF target path of a region's bundle; the region's role is delegated ``<region>/*``."""
    return f"{region}/{BUNDLE_TARGET}"


# --------------------------------------------------------------------------- errors


class ProtocolError(Exception):
    """A refusal. ``code`` is stable and is what the agent reports to the control plane."""

    code = "protocol_error"

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class MalformedError(ProtocolError):
    code = "malformed"


class TooLargeError(ProtocolError):
    code = "too_large"


class WrongRegionError(ProtocolError):
    code = "wrong_region"


class UnknownSchemaError(ProtocolError):
    code = "unknown_schema"


class TamperedStateError(ProtocolError):
    code = "state_tampered"


# --------------------------------------------------------------------------- encoding


def canonical_json(obj) -> bytes:
    """Sorted keys, no spaces, UTF-8, no NaN/Infinity: the bytes that get hashed."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def digest_of(obj) -> str:
    return sha256_digest(canonical_json(obj))


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text) -> datetime:
    if not isinstance(text, str):
        raise MalformedError(f"time must be a string, got {type(text).__name__}")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise MalformedError(f"bad time {text[:40]!r}") from exc


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_json_bytes(raw: bytes, *, max_bytes: int = MAX_BUNDLE_BYTES):
    """Strict JSON (see ``agents.transport.parse_json``); ``ProtocolError`` on anything else."""
    if len(raw) > max_bytes:
        raise TooLargeError(f"body of {len(raw)} bytes exceeds the cap of {max_bytes}")
    try:
        return parse_json(raw)
    except ValueError as exc:
        raise MalformedError(str(exc)) from None


# --------------------------------------------------------------------------- bundles


def bundle_payload(*, region: str, version: int, content: dict, issued: datetime) -> dict:
    return {
        "schema": BUNDLE_SCHEMA,
        "region": region,
        "version": version,
        "issued": format_time(issued),
        "content": content,
        "content_digest": digest_of(content),
    }


def bundle_bytes(payload: dict) -> bytes:
    return canonical_json(payload)


@dataclass(frozen=True)
class Bundle:
    region: str
    version: int
    digest: str
    issued: datetime
    payload: dict = field(repr=False)

    @property
    def content(self) -> dict:
        return self.payload["content"]


def parse_bundle(raw: bytes, *, region: str | None) -> Bundle:
    """Check a bundle's shape and region. Its authenticity is TUF's (length and hashes listed
    by the region's role); this only refuses what a genuine bundle could never be."""
    payload = parse_json_bytes(raw)
    if not isinstance(payload, dict):
        raise MalformedError("bundle must be a JSON object")
    if payload.get("schema") not in KNOWN_BUNDLE_SCHEMAS:
        raise UnknownSchemaError(f"unknown bundle schema {str(payload.get('schema'))[:60]!r}")
    missing = {"region", "version", "issued", "content", "content_digest"} - set(payload)
    if missing:
        raise MalformedError(f"bundle lacks {', '.join(sorted(missing))}")
    if not isinstance(payload["region"], str) or not isinstance(payload["content"], dict):
        raise MalformedError("bundle region must be a string and content an object")
    version = payload["version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MalformedError("bundle version must be a positive integer")
    if region is not None and payload["region"] != region:
        raise WrongRegionError(f"bundle for {payload['region'][:60]!r}, this agent is {region!r}")
    if digest_of(payload["content"]) != payload["content_digest"]:
        raise MalformedError("content_digest does not match content")
    return Bundle(
        region=payload["region"],
        version=version,
        digest=sha256_digest(raw),
        issued=parse_time(payload["issued"]),
        payload=payload,
    )
