"""The control plane as a TUF repository, built with ``tuf.api.metadata``.

Roles (see docs/agent-protocol.md for the keys and their custody):

* ``root``: lists the keys of the top-level roles; signed by the offline root keys (threshold
  ``TUF_ROOT_THRESHOLD``); a new version is signed by the old and the new root keys, so agents
  walk the chain ``1.root.json``, ``2.root.json``, ... from whatever root they were given.
* ``targets``: lists no target itself; it delegates ``<slug>/*`` to one role per region, named
  after the region, each with its own key, terminating: one region's key cannot sign another
  region's bundle.
* ``<region slug>``: lists one target, ``<slug>/bundle.json``: the region's current bundle.
* ``snapshot`` and ``timestamp``: online; the timestamp is re-signed often with a short expiry.

Consistent snapshots: metadata is served as ``<version>.<role>.json`` (timestamp unversioned)
and targets as ``<slug>/<sha256>.bundle.json``. Every version of every role is stored in
``TufMetadata``, byte for byte, in the same transaction as the bundle it describes. Writers
serialise on the ``snapshot`` head row (after the region row, when publishing).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

from controlplane.distribution import conf, keys
from controlplane.distribution.models import TufMetadata, TufRole

TOP_LEVEL = ("root", "targets", "snapshot", "timestamp")
BUNDLE_NAME = "bundle.json"
_SERIALIZER = JSONSerializer(compact=True)


class RepositoryNotInitialised(keys.KeyMaterialMissing):
    pass


def target_path(slug: str) -> str:
    return f"{slug}/{BUNDLE_NAME}"


def _now():
    return timezone.now().replace(microsecond=0)


def _bytes(md: Metadata) -> bytes:
    return md.to_bytes(_SERIALIZER)


def _save(role: str, md: Metadata) -> bytes:
    data = _bytes(md)
    TufMetadata.objects.create(
        role=role, version=md.signed.version, data=data, expires=md.signed.expires
    )
    keyids = sorted(md.signatures)
    TufRole.objects.update_or_create(
        name=role,
        defaults={"version": md.signed.version, "expires": md.signed.expires, "keyids": keyids},
    )
    return data


def load(role: str, version: int | None = None) -> Metadata | None:
    rows = TufMetadata.objects.filter(role=role)
    row = rows.filter(version=version).first() if version else rows.order_by("-version").first()
    return Metadata.from_bytes(bytes(row.data)) if row else None


def _require(role: str) -> Metadata:
    md = load(role)
    if md is None:
        raise RepositoryNotInitialised(
            "The TUF repository has no metadata yet. Run `manage.py bundle_keys init`."
        )
    return md


def is_initialised() -> bool:
    return TufRole.objects.filter(name="timestamp").exists()


def _lock() -> None:
    """Serialise repository writers (snapshot and timestamp versions must not fork)."""
    if not TufRole.objects.select_for_update().filter(name="snapshot").exists():
        raise RepositoryNotInitialised(
            "The TUF repository has no metadata yet. Run `manage.py bundle_keys init`."
        )


def _write_trusted_root(md: Metadata) -> None:
    path = conf.trusted_root_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(JSONSerializer(compact=False).serialize(md))
    tmp.replace(path)


# --------------------------------------------------------------------------- root


def _sign_root(md: Metadata, signers) -> None:
    md.signatures.clear()
    for signer in signers:
        md.sign(signer, append=True)


def init(*, root_keys: int = 1, threshold: int | None = None) -> dict:
    """Create root v1, targets, snapshot and timestamp, and the keys that sign them.

    Idempotent: an initialised repository is left alone (its root is re-exported).
    """
    with transaction.atomic():
        if TufRole.objects.filter(name="root").exists():
            root = _require("root")
            _write_trusted_root(root)
            return {"created": False, "root_version": root.signed.version}
        threshold = threshold or conf.root_threshold()
        if threshold > root_keys:
            raise keys.KeyMaterialMissing(
                f"a root threshold of {threshold} needs at least {threshold} root keys"
            )
        root_signers = keys.new_root_keys(root_keys)
        online = {role: keys.new_key(keys.online_path(role)) for role in keys.ONLINE_ROLES}
        now = _now()
        root = Metadata(Root(expires=now + conf.root_ttl(), consistent_snapshot=True))
        for signer in root_signers:
            root.signed.add_key(signer.public_key, "root")
        root.signed.roles["root"].threshold = threshold
        for role, signer in online.items():
            root.signed.add_key(signer.public_key, role)
        _sign_root(root, root_signers)
        _save("root", root)
        targets = Metadata(Targets(expires=now + conf.targets_ttl()))
        targets.signed.delegations = Delegations(keys={}, roles={})
        targets.sign(online["targets"])
        _save("targets", targets)
        snapshot = Metadata(Snapshot(expires=now + conf.snapshot_ttl()))
        _save_snapshot_and_timestamp(snapshot_md=snapshot, now=now, first=True)
        _write_trusted_root(root)
    return {"created": True, "root_version": 1, "threshold": threshold}


def rotate_root_keys(*, role: str) -> dict:
    """A new key for ``role`` (root, targets, snapshot or timestamp), in a new root version.

    The new root is signed by a threshold of the current root keys (and, for the root role,
    the new ones too), then everything below it is re-signed with the new keys. Agents that
    slept through any number of rotations walk the root chain and catch up; metadata signed by
    a replaced key no longer verifies, so a fast-forward made with a stolen key is discarded.
    """
    if role not in TOP_LEVEL:
        raise ValueError(f"unknown top-level role {role!r}")
    with transaction.atomic():
        _lock()
        current = _require("root")
        old_signers = keys.root_signers()
        new = Metadata.from_bytes(_bytes(current))
        signed = new.signed
        retired = list(signed.roles[role].keyids)
        for keyid in retired:
            signed.revoke_key(keyid, role)
        if role == "root":
            count = max(len(retired), signed.roles["root"].threshold)
            fresh = keys.new_root_keys(count)
            for signer in fresh:
                signed.add_key(signer.public_key, "root")
            signers = [s for s in old_signers if s.public_key.keyid in retired] + fresh
        else:
            fresh = [keys.new_key(keys.online_path(role))]
            signed.add_key(fresh[0].public_key, role)
            signers = [
                s for s in old_signers if s.public_key.keyid in current.signed.roles["root"].keyids
            ]
        signed.version += 1
        signed.expires = _now() + conf.root_ttl()
        _sign_root(new, signers)
        _save("root", new)
        if role == "root":
            keys.retire_root_keys(set(signed.roles["root"].keyids))
        now = _now()
        if role in ("targets",):
            _resign_targets(now=now)
        _save_snapshot_and_timestamp(snapshot_md=None, now=now)
        _write_trusted_root(new)
    return {"role": role, "root_version": new.signed.version, "revoked_keyids": retired}


# --------------------------------------------------------------------------- targets


def _resign_targets(*, now, delegations: Delegations | None = None) -> Metadata:
    targets = _require("targets")
    if delegations is not None:
        targets.signed.delegations = delegations
    targets.signed.version += 1
    targets.signed.expires = now + conf.targets_ttl()
    targets.signatures.clear()
    targets.sign(keys.online_signer("targets"))
    _save("targets", targets)
    return targets


def _delegate(slug: str, *, now, rotate: bool = False) -> None:
    """Make sure ``targets`` delegates ``<slug>/*`` to the region key on disk (only)."""
    if slug in TOP_LEVEL:
        raise ValueError(f"a region cannot be called {slug!r}")
    signer = keys.new_key(keys.region_path(slug)) if rotate else keys.region_signer(slug)
    targets = _require("targets")
    delegations = targets.signed.delegations or Delegations(keys={}, roles={})
    keyid = signer.public_key.keyid
    current = (delegations.roles or {}).get(slug)
    if current is not None and current.keyids == [keyid]:
        return
    if current is not None:
        for old in current.keyids:
            used = any(old in r.keyids for n, r in delegations.roles.items() if n != slug)
            if not used:
                delegations.keys.pop(old, None)
    delegations.keys[keyid] = signer.public_key
    delegations.roles[slug] = DelegatedRole(
        name=slug, keyids=[keyid], threshold=1, terminating=True, paths=[f"{slug}/*"]
    )
    _resign_targets(now=now, delegations=delegations)


def publish_target(*, slug: str, data: bytes, expires, rotate_key: bool = False) -> int:
    """Sign a new version of the region's role listing ``data`` as its bundle; then a new
    snapshot and timestamp. Runs inside the caller's transaction. Returns the role version."""
    _lock()
    now = _now()
    _delegate(slug, now=now, rotate=rotate_key)
    previous = TufRole.objects.filter(name=slug).values_list("version", flat=True).first() or 0
    path = target_path(slug)
    role = Metadata(
        Targets(
            version=previous + 1,
            expires=expires,
            targets={
                path: TargetFile(
                    length=len(data),
                    hashes={"sha256": hashlib.sha256(data).hexdigest()},
                    path=path,
                )
            },
        )
    )
    role.sign(keys.region_signer(slug))
    _save(slug, role)
    _save_snapshot_and_timestamp(snapshot_md=None, now=now)
    return previous + 1


def _meta(role: str) -> MetaFile:
    row = TufMetadata.objects.filter(role=role).order_by("-version").first()
    data = bytes(row.data)
    return MetaFile(
        version=row.version, length=len(data), hashes={"sha256": hashlib.sha256(data).hexdigest()}
    )


def _save_snapshot_and_timestamp(*, snapshot_md: Metadata | None, now, first: bool = False):
    snapshot = snapshot_md or _require("snapshot")
    names = [n for n in TufRole.objects.values_list("name", flat=True) if n not in TOP_LEVEL]
    snapshot.signed.meta = {"targets.json": _meta("targets")}
    for name in sorted(names):
        snapshot.signed.meta[f"{name}.json"] = _meta(name)
    if not first:
        snapshot.signed.version += 1
    snapshot.signed.expires = now + conf.snapshot_ttl()
    snapshot.signatures.clear()
    snapshot.sign(keys.online_signer("snapshot"))
    _save("snapshot", snapshot)
    _new_timestamp(now=now, first=first)


def _new_timestamp(*, now, first: bool = False) -> bytes:
    previous = None if first else _require("timestamp")
    timestamp = Metadata(
        Timestamp(
            version=(previous.signed.version + 1) if previous else 1,
            expires=now + conf.timestamp_ttl(),
            snapshot_meta=_meta("snapshot"),
        )
    )
    timestamp.sign(keys.online_signer("timestamp"))
    return _save("timestamp", timestamp)


# --------------------------------------------------------------------------- timestamp


@dataclass(frozen=True)
class TimestampHead:
    data: bytes
    version: int
    signed_at: float  # epoch seconds
    expires: float


def timestamp_head() -> TimestampHead | None:
    row = (
        TufMetadata.objects.filter(role="timestamp")
        .order_by("-version")
        .values("data", "version", "created_at", "expires")
        .first()
    )
    if row is None:
        return None
    return TimestampHead(
        bytes(row["data"]),
        row["version"],
        row["created_at"].timestamp(),
        row["expires"].timestamp(),
    )


def refresh_timestamp(*, force: bool = False) -> TimestampHead | None:
    """Re-sign the timestamp (a new version) once the current one is older than
    ``TUF_TIMESTAMP_RESIGN_SECONDS``, or when forced. Returns the current head."""
    with transaction.atomic():
        _lock()
        head = timestamp_head()
        if head is None:
            return None
        age = timezone.now().timestamp() - head.signed_at
        if force or age >= conf.timestamp_resign_after().total_seconds():
            _new_timestamp(now=_now())
            head = timestamp_head()
    return head


def resign_expiring(*, now=None) -> list[str]:
    """Beat: re-sign targets and snapshot ahead of expiry (regions re-sign with their bundle)."""
    now = now or timezone.now()
    done = []
    with transaction.atomic():
        if not TufRole.objects.filter(name="snapshot").exists():
            return done
        _lock()
        heads = dict(TufRole.objects.values_list("name", "expires"))
        stamp = _now()
        if heads["targets"] - now <= conf.targets_ttl() / 4:
            _resign_targets(now=stamp)
            done.append("targets")
        if done or heads["snapshot"] - now <= conf.snapshot_ttl() / 4:
            _save_snapshot_and_timestamp(snapshot_md=None, now=stamp)
            done.append("snapshot")
    return done


def root_expires():
    return TufRole.objects.filter(name="root").values_list("expires", flat=True).first()
