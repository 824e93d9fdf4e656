"""Key files of the TUF repository; never stored in the database.

* **root keys** (``TUF_ROOT_KEY_DIR``, default ``var/keys/root/``): sign root metadata only.
  Needed by ``manage.py bundle_keys`` (init, rotate, revoke), never by the web or worker
  processes: keep them offline (see docs/agent-protocol.md).
* **online keys** (``TUF_KEY_DIR/online/``): ``targets`` (delegates one role per region),
  ``snapshot`` and ``timestamp``; read by web and worker processes.
* **region keys** (``TUF_KEY_DIR/regions/<slug>.key``): each signs its own region's role and
  nothing else; created when a region is first published.

Private keys are Ed25519, PKCS#8 PEM, mode 0600. Files are re-read when they change on disk.
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner

from controlplane.distribution import conf
from controlplane.errors import DomainError

ONLINE_ROLES = ("targets", "snapshot", "timestamp")


class KeyMaterialMissing(DomainError):
    code = "bundle_keys_missing"
    http_status = 503


_cache: dict = {}


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _load(path: Path) -> CryptoSigner:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise KeyMaterialMissing(
            f"No key at {path}. Run `manage.py bundle_keys init` (development) or install the "
            "key files named in docs/agent-protocol.md."
        ) from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    hit = _cache.get(path)
    if hit and hit[0] == stamp:
        return hit[1]
    signer = CryptoSigner(load_pem_private_key(path.read_bytes(), None))
    _cache[path] = (stamp, signer)
    return signer


def new_key(path: Path) -> CryptoSigner:
    signer = CryptoSigner.generate_ed25519()
    _write_secret(path, signer.private_bytes)
    _cache.pop(path, None)
    return _load(path)


def online_path(role: str) -> Path:
    return conf.key_dir() / "online" / f"{role}.key"


def online_signer(role: str) -> CryptoSigner:
    return _load(online_path(role))


def region_path(slug: str) -> Path:
    return conf.key_dir() / "regions" / f"{slug}.key"


def region_signer(slug: str, *, create: bool = True) -> CryptoSigner:
    path = region_path(slug)
    if create and not path.exists():
        return new_key(path)
    return _load(path)


def root_signers() -> list[CryptoSigner]:
    """Every root key present (offline: only where ``bundle_keys`` runs)."""
    directory = conf.root_key_dir()
    paths = sorted(directory.glob("*.key")) if directory.is_dir() else []
    if not paths:
        raise KeyMaterialMissing(
            f"No root keys in {directory}: root metadata is signed only where the offline root "
            "keys are mounted (TUF_ROOT_KEY_DIR)."
        )
    return [_load(p) for p in paths]


def new_root_keys(count: int) -> list[CryptoSigner]:
    directory = conf.root_key_dir()
    signers = []
    for _ in range(count):
        signer = CryptoSigner.generate_ed25519()
        path = directory / f"{signer.public_key.keyid[:16]}.key"
        _write_secret(path, signer.private_bytes)
        signers.append(_load(path))
    return signers


def retire_root_keys(keep_keyids: set[str]) -> list[str]:
    """Delete root key files whose key the current root no longer lists."""
    removed = []
    for path in sorted(conf.root_key_dir().glob("*.key")):
        if _load(path).public_key.keyid not in keep_keyids:
            path.unlink()
            _cache.pop(path, None)
            removed.append(str(path))
    return removed
