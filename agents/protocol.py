"""The wire format of configuration bundles: the one definition, shared by both sides.

The control plane imports this module to build and sign bundles; the regional agent uses it to
verify them. It depends on the standard library and ``cryptography`` only (never Django).

Shapes (all JSON, canonical form = sorted keys, no insignificant whitespace, UTF-8):

* envelope: ``{"payload": {...}, "signatures": [{"keyid": "...", "sig": "<base64>"}]}``;
  the signature covers ``canonical_json(payload)``.
* keyring (signed by the root key): ``{"schema": KEYRING_SCHEMA, "version": n, "issued",
  "expires", "keys": [{"keyid", "public_key", "expires"}]}``. Agents trust only the root public
  key; the keyring says which online signing keys are currently endorsed.
* bundle envelope: an envelope over a bundle payload ``{"schema": BUNDLE_SCHEMA, "region",
  "version", "issued", "expires", "content", "content_digest"}``, signed by an endorsed signing
  key, with the signed keyring alongside under ``"keyring"``.
* freshness statement: an envelope over ``{"schema": FRESHNESS_SCHEMA, "region",
  "latest_version", "digest", "issued", "expires"}``, short-lived, carried on every answer of the
  bundle endpoint (304 included) in the ``X-Bundle-Freshness`` header, base64url encoded.

The digest of a bundle (its HTTP ETag) is ``sha256:<hex>`` of the canonical payload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from agents.transport import parse_json

BUNDLE_SCHEMA = "sovereign.bundle/v1"
KEYRING_SCHEMA = "sovereign.keyring/v1"
FRESHNESS_SCHEMA = "sovereign.freshness/v1"
KNOWN_BUNDLE_SCHEMAS = frozenset({BUNDLE_SCHEMA})

FRESHNESS_HEADER = "X-Bundle-Freshness"
MAX_BUNDLE_BYTES = 8 * 1024 * 1024
MAX_FRESHNESS_BYTES = 4096
DEFAULT_BUNDLE_TTL = timedelta(days=7)
DEFAULT_FRESHNESS_TTL = timedelta(minutes=10)
DEFAULT_KEYRING_TTL = timedelta(days=365)


# --------------------------------------------------------------------------- errors


class ProtocolError(Exception):
    """A refusal. ``code`` is stable and is what the agent reports to the control plane."""

    code = "protocol_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class MalformedError(ProtocolError):
    code = "malformed"


class TooLargeError(ProtocolError):
    code = "too_large"


class BadSignatureError(ProtocolError):
    code = "bad_signature"


class UnendorsedKeyError(ProtocolError):
    code = "key_not_endorsed"


class KeyringExpiredError(ProtocolError):
    code = "keyring_expired"


class WrongRegionError(ProtocolError):
    code = "wrong_region"


class RollbackError(ProtocolError):
    code = "rollback"


class KeyringRollbackError(RollbackError):
    code = "keyring_rollback"


class VersionDigestMismatchError(ProtocolError):
    code = "version_digest_mismatch"


class ExpiredBundleError(ProtocolError):
    code = "bundle_expired"


class StaleFreshnessError(ProtocolError):
    code = "freshness_stale"


class FreshnessMismatchError(ProtocolError):
    code = "freshness_mismatch"


class UnknownSchemaError(ProtocolError):
    code = "unknown_schema"


# --------------------------------------------------------------------------- encoding


def canonical_json(obj) -> bytes:
    """Sorted keys, no spaces, UTF-8, no NaN/Infinity: the bytes that get hashed and signed."""
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
        raise MalformedError(f"bad time {text!r}") from exc


def utcnow() -> datetime:
    return datetime.now(UTC)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text, what: str) -> bytes:
    if not isinstance(text, str):
        raise MalformedError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise MalformedError(f"{what} is not valid base64") from exc


# --------------------------------------------------------------------------- keys


def generate_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_key_to_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def public_key_text(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Raw 32-byte public key, base64: how keys appear in keyrings and agent configuration."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64(raw)


def load_public_key(text: str | bytes) -> Ed25519PublicKey:
    """Accept the base64 raw form or a PEM SubjectPublicKeyInfo."""
    if isinstance(text, bytes):
        text = text.decode("ascii")
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_public_key(text.encode("ascii"))
        if not isinstance(key, Ed25519PublicKey):
            raise MalformedError("not an Ed25519 public key")
        return key
    raw = _unb64(text, "public key")
    if len(raw) != 32:
        raise MalformedError("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """``ed25519:`` + sha256 hex of the raw public key."""
    if isinstance(key, Ed25519PrivateKey):
        key = key.public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()


# --------------------------------------------------------------------------- envelopes


def sign_envelope(payload: dict, keys: list[Ed25519PrivateKey]) -> dict:
    message = canonical_json(payload)
    return {
        "payload": payload,
        "signatures": [{"keyid": key_id(k), "sig": _b64(k.sign(message))} for k in keys],
    }


def _check_envelope_shape(envelope) -> None:
    if not isinstance(envelope, dict):
        raise MalformedError("envelope must be a JSON object")
    if not isinstance(envelope.get("payload"), dict):
        raise MalformedError("envelope.payload must be an object")
    sigs = envelope.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise BadSignatureError("envelope carries no signatures")
    for sig in sigs:
        if not isinstance(sig, dict) or not isinstance(sig.get("keyid"), str):
            raise MalformedError("each signature needs a keyid and a sig")


def verify_signatures(envelope: dict, trusted: dict[str, Ed25519PublicKey]) -> str:
    """Return the keyid of the first valid signature by a trusted key.

    Raises ``UnendorsedKeyError`` if no signature comes from a trusted key and
    ``BadSignatureError`` if a trusted key's signature does not verify.
    """
    _check_envelope_shape(envelope)
    message = canonical_json(envelope["payload"])
    saw_trusted = False
    for sig in envelope["signatures"]:
        key = trusted.get(sig["keyid"])
        if key is None:
            continue
        saw_trusted = True
        try:
            key.verify(_unb64(sig.get("sig"), "signature"), message)
        except (InvalidSignature, MalformedError):
            continue
        return sig["keyid"]
    if not saw_trusted:
        ids = ", ".join(s["keyid"] for s in envelope["signatures"])
        raise UnendorsedKeyError(f"no signature from an endorsed key (signed by {ids})")
    raise BadSignatureError("signature does not verify against the endorsed key")


def parse_json_bytes(raw: bytes, *, max_bytes: int = MAX_BUNDLE_BYTES):
    if len(raw) > max_bytes:
        raise TooLargeError(f"body of {len(raw)} bytes exceeds the cap of {max_bytes}")
    try:
        return parse_json(raw)
    except ValueError as exc:
        raise MalformedError(str(exc)) from None


def encode_header(envelope: dict) -> str:
    return base64.urlsafe_b64encode(canonical_json(envelope)).decode("ascii")


def decode_header(value: str | None, *, max_bytes: int = MAX_FRESHNESS_BYTES) -> dict:
    if not value:
        raise StaleFreshnessError(f"answer carries no {FRESHNESS_HEADER} statement")
    if len(value) > max_bytes:
        raise TooLargeError(f"freshness statement over the cap of {max_bytes} bytes")
    try:
        raw = base64.urlsafe_b64decode(value.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise MalformedError("freshness statement is not base64url") from exc
    return parse_json_bytes(raw, max_bytes=max_bytes)


# --------------------------------------------------------------------------- keyring


@dataclass(frozen=True)
class Keyring:
    version: int
    expires: datetime
    keys: dict[str, Ed25519PublicKey]
    key_expiry: dict[str, datetime]

    def endorsed(self, now: datetime) -> dict[str, Ed25519PublicKey]:
        return {k: v for k, v in self.keys.items() if self.key_expiry[k] > now}


def make_keyring(
    *,
    root_key: Ed25519PrivateKey,
    signing_keys: list[tuple[Ed25519PublicKey | Ed25519PrivateKey, datetime]],
    version: int,
    issued: datetime,
    expires: datetime | None = None,
) -> dict:
    payload = {
        "schema": KEYRING_SCHEMA,
        "version": version,
        "issued": format_time(issued),
        "expires": format_time(expires or issued + DEFAULT_KEYRING_TTL),
        "keys": [
            {"keyid": key_id(k), "public_key": public_key_text(k), "expires": format_time(exp)}
            for k, exp in signing_keys
        ],
    }
    return sign_envelope(payload, [root_key])


def verify_keyring(
    envelope,
    *,
    root_public_key: Ed25519PublicKey,
    now: datetime | None = None,
    min_version: int = 0,
) -> Keyring:
    now = now or utcnow()
    if not isinstance(envelope, dict):
        raise MalformedError("bundle carries no keyring")
    verify_signatures(envelope, {key_id(root_public_key): root_public_key})
    payload = envelope["payload"]
    if payload.get("schema") != KEYRING_SCHEMA:
        raise UnknownSchemaError(f"unknown keyring schema {payload.get('schema')!r}")
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MalformedError("keyring version must be a positive integer")
    if version < min_version:
        raise KeyringRollbackError(
            f"keyring version {version} is older than the accepted version {min_version}"
        )
    expires = parse_time(payload.get("expires"))
    if expires <= now:
        raise KeyringExpiredError(f"keyring version {version} expired at {format_time(expires)}")
    keys: dict[str, Ed25519PublicKey] = {}
    key_expiry: dict[str, datetime] = {}
    entries = payload.get("keys")
    if not isinstance(entries, list):
        raise MalformedError("keyring.keys must be a list")
    for entry in entries:
        if not isinstance(entry, dict):
            raise MalformedError("keyring entry must be an object")
        public = load_public_key(entry.get("public_key") or "")
        kid = key_id(public)
        if entry.get("keyid") != kid:
            raise MalformedError("keyring keyid does not match its public key")
        keys[kid] = public
        key_expiry[kid] = parse_time(entry.get("expires"))
    return Keyring(version=version, expires=expires, keys=keys, key_expiry=key_expiry)


# --------------------------------------------------------------------------- bundles


@dataclass(frozen=True)
class AppliedState:
    """What the agent has accepted so far: the floor for the next bundle."""

    version: int = 0
    digest: str = ""
    keyring_version: int = 0


@dataclass(frozen=True)
class VerifiedBundle:
    envelope: dict
    payload: dict
    region: str
    version: int
    digest: str
    issued: datetime
    expires: datetime
    keyring: Keyring
    signed_by: str
    content: dict = field(repr=False, default_factory=dict)

    @property
    def content_digest(self) -> str:
        return self.payload["content_digest"]


def bundle_payload(
    *,
    region: str,
    version: int,
    content: dict,
    issued: datetime,
    expires: datetime | None = None,
    schema: str = BUNDLE_SCHEMA,
) -> dict:
    return {
        "schema": schema,
        "region": region,
        "version": version,
        "issued": format_time(issued),
        "expires": format_time(expires or issued + DEFAULT_BUNDLE_TTL),
        "content": content,
        "content_digest": digest_of(content),
    }


def sign_bundle(payload: dict, *, signing_key: Ed25519PrivateKey, keyring: dict) -> dict:
    envelope = sign_envelope(payload, [signing_key])
    envelope["keyring"] = keyring
    return envelope


def verify_bundle(
    envelope,
    *,
    root_public_key: Ed25519PublicKey,
    region: str | None,
    applied: AppliedState | None = None,
    now: datetime | None = None,
    check_expiry: bool = True,
) -> VerifiedBundle:
    """Every check the agent makes before applying a bundle, in a fixed order.

    ``region=None`` skips the region check (``sovereign-agent verify`` on a file).
    ``check_expiry=False`` is used only when re-loading the agent's own last good bundle.
    """
    now = now or utcnow()
    applied = applied or AppliedState()
    if not isinstance(envelope, dict):
        raise MalformedError("bundle must be a JSON object")
    keyring = verify_keyring(
        envelope.get("keyring"),
        root_public_key=root_public_key,
        now=now,
        min_version=applied.keyring_version,
    )
    signed_by = verify_signatures(envelope, keyring.endorsed(now))
    payload = envelope["payload"]
    schema = payload.get("schema")
    if schema not in KNOWN_BUNDLE_SCHEMAS:
        raise UnknownSchemaError(f"unknown bundle schema {schema!r}")
    content = payload.get("content")
    if not isinstance(content, dict):
        raise MalformedError("bundle content must be an object")
    if payload.get("content_digest") != digest_of(content):
        raise MalformedError("content_digest does not match the content")
    bundle_region = payload.get("region")
    if region is not None and bundle_region != region:
        raise WrongRegionError(f"bundle is for region {bundle_region!r}, this agent is {region!r}")
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MalformedError("bundle version must be a positive integer")
    digest = digest_of(payload)
    if version < applied.version:
        raise RollbackError(f"bundle version {version} is lower than applied {applied.version}")
    if version == applied.version and applied.digest and digest != applied.digest:
        raise VersionDigestMismatchError(
            f"bundle version {version} has digest {digest}, applied has {applied.digest}"
        )
    issued = parse_time(payload.get("issued"))
    expires = parse_time(payload.get("expires"))
    if check_expiry and expires <= now:
        raise ExpiredBundleError(f"bundle version {version} expired at {format_time(expires)}")
    return VerifiedBundle(
        envelope=envelope,
        payload=payload,
        region=bundle_region,
        version=version,
        digest=digest,
        issued=issued,
        expires=expires,
        keyring=keyring,
        signed_by=signed_by,
        content=content,
    )


# --------------------------------------------------------------------------- freshness


@dataclass(frozen=True)
class Freshness:
    region: str
    latest_version: int
    digest: str
    issued: datetime
    expires: datetime


def make_freshness(
    *,
    region: str,
    latest_version: int,
    digest: str,
    signing_key: Ed25519PrivateKey,
    now: datetime | None = None,
    ttl: timedelta = DEFAULT_FRESHNESS_TTL,
) -> dict:
    now = now or utcnow()
    payload = {
        "schema": FRESHNESS_SCHEMA,
        "region": region,
        "latest_version": latest_version,
        "digest": digest,
        "issued": format_time(now),
        "expires": format_time(now + ttl),
    }
    return sign_envelope(payload, [signing_key])


def verify_freshness(
    envelope,
    *,
    keyring: Keyring,
    region: str,
    now: datetime | None = None,
    applied: AppliedState | None = None,
) -> Freshness:
    """Check a freshness statement; it must be current and not older than what was applied."""
    now = now or utcnow()
    applied = applied or AppliedState()
    verify_signatures(envelope, keyring.endorsed(now))
    payload = envelope["payload"]
    if payload.get("schema") != FRESHNESS_SCHEMA:
        raise UnknownSchemaError(f"unknown freshness schema {payload.get('schema')!r}")
    if payload.get("region") != region:
        raise WrongRegionError(
            f"freshness statement is for region {payload.get('region')!r}, agent is {region!r}"
        )
    latest = payload.get("latest_version")
    if not isinstance(latest, int) or isinstance(latest, bool):
        raise MalformedError("latest_version must be an integer")
    expires = parse_time(payload.get("expires"))
    if expires <= now:
        raise StaleFreshnessError(
            f"freshness statement expired at {format_time(expires)}: the server may be frozen"
        )
    if latest < applied.version:
        raise StaleFreshnessError(
            f"server says latest is version {latest} but version {applied.version} was applied"
        )
    digest = payload.get("digest")
    if latest == applied.version and applied.digest and digest != applied.digest:
        raise VersionDigestMismatchError(
            f"server says version {latest} has digest {digest}, applied has {applied.digest}"
        )
    return Freshness(
        region=region,
        latest_version=latest,
        digest=digest,
        issued=parse_time(payload.get("issued")),
        expires=expires,
    )


def check_bundle_matches_freshness(bundle: VerifiedBundle, freshness: Freshness) -> None:
    """A served bundle must be the one the freshness statement calls the latest."""
    if bundle.version != freshness.latest_version or bundle.digest != freshness.digest:
        raise FreshnessMismatchError(
            f"served bundle version {bundle.version} ({bundle.digest}) is not the latest "
            f"announced, version {freshness.latest_version} ({freshness.digest})"
        )
