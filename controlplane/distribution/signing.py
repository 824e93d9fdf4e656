"""Key material for bundles, read from files named by settings; never stored in the database.

* the **root key** signs keyrings only; it is needed by ``manage.py bundle_keys`` (init and
  rotate), not by the web or worker processes. Agents are configured with its public half;
* the **signing key** signs bundles and freshness statements; the web and worker processes read
  it from ``BUNDLE_SIGNING_KEY_FILE``;
* the **keyring** (``BUNDLE_KEYRING_FILE``) is the root-signed list of endorsed signing keys,
  shipped inside every bundle envelope.

Files are re-read when they change on disk, so a rotation reaches running processes.
"""

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from agents import protocol
from controlplane.distribution import conf
from controlplane.errors import DomainError

SIGNING_KEY_LIFETIME = timedelta(days=365)


class KeyMaterialMissing(DomainError):
    code = "bundle_keys_missing"
    http_status = 503


@dataclass(frozen=True)
class SigningMaterial:
    key: Ed25519PrivateKey
    keyid: str
    keyring: dict
    keyring_version: int


_cache: dict = {}


def _stamp(*paths: Path) -> tuple:
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)


def signing_material() -> SigningMaterial:
    key_path, ring_path = conf.signing_key_file(), conf.keyring_file()
    try:
        stamp = _stamp(key_path, ring_path)
    except FileNotFoundError:
        raise KeyMaterialMissing(
            f"No bundle signing key at {key_path} / keyring at {ring_path}. "
            "Run `manage.py bundle_keys init` (development) or set BUNDLE_SIGNING_KEY_FILE and "
            "BUNDLE_KEYRING_FILE."
        ) from None
    cached = _cache.get("material")
    if cached and cached[0] == stamp:
        return cached[1]
    key = protocol.load_private_key(key_path.read_bytes())
    keyring = json.loads(ring_path.read_text())
    kid = protocol.key_id(key)
    endorsed = {k["keyid"] for k in keyring["payload"]["keys"]}
    if kid not in endorsed:
        raise KeyMaterialMissing(f"the signing key {kid} is not endorsed by {ring_path}")
    material = SigningMaterial(key, kid, keyring, keyring["payload"]["version"])
    _cache["material"] = (stamp, material)
    return material


def root_public_key_text() -> str:
    path = conf.root_public_key_file()
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise KeyMaterialMissing(f"No root public key at {path}.") from None


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _write_keyring(root: Ed25519PrivateKey, signing_keys, version: int) -> dict:
    now = protocol.utcnow().replace(microsecond=0)
    keyring = protocol.make_keyring(
        root_key=root,
        signing_keys=[(k, now + SIGNING_KEY_LIFETIME) for k in signing_keys],
        version=version,
        issued=now,
    )
    path = conf.keyring_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(keyring, indent=2, sort_keys=True))
    os.replace(tmp, path)
    return keyring


def init_keys() -> dict:
    """Create the root key, a signing key and keyring v1 where they do not exist yet."""
    created = []
    root_path, key_path = conf.root_key_file(), conf.signing_key_file()
    if not root_path.exists():
        _write_secret(root_path, protocol.private_key_to_pem(protocol.generate_private_key()))
        created.append(str(root_path))
    root = protocol.load_private_key(root_path.read_bytes())
    pub_path = conf.root_public_key_file()
    pub_path.write_text(protocol.public_key_text(root) + "\n")
    if not key_path.exists():
        _write_secret(key_path, protocol.private_key_to_pem(protocol.generate_private_key()))
        created.append(str(key_path))
    if not conf.keyring_file().exists() or str(key_path) in created:
        signing = protocol.load_private_key(key_path.read_bytes())
        version = 1
        if conf.keyring_file().exists():
            version = json.loads(conf.keyring_file().read_text())["payload"]["version"] + 1
        _write_keyring(root, [signing], version)
        created.append(str(conf.keyring_file()))
    return {"created": created, "root_public_key": protocol.public_key_text(root)}


def rotate_signing_key(*, keep_old: bool = False) -> dict:
    """A new signing key and keyring version n+1; the old key stays endorsed only if asked."""
    root_path, key_path = conf.root_key_file(), conf.signing_key_file()
    if not root_path.exists():
        raise KeyMaterialMissing(f"rotation needs the root key at {root_path}")
    root = protocol.load_private_key(root_path.read_bytes())
    old = protocol.load_private_key(key_path.read_bytes())
    version = json.loads(conf.keyring_file().read_text())["payload"]["version"] + 1
    new = protocol.generate_private_key()
    keys = [new, old] if keep_old else [new]
    _write_secret(key_path, protocol.private_key_to_pem(new))
    _write_keyring(root, keys, version)
    _cache.clear()
    return {"keyid": protocol.key_id(new), "keyring_version": version, "revoked": not keep_old}
