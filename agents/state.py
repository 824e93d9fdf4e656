"""The agent's state directory: TUF metadata, the last good bundle, and what happened.

* ``metadata/``: the TUF client's trusted metadata (``root_history/N.root.json``, ``root.json``,
  ``timestamp.json``, ``snapshot.json``, ``targets.json``, ``<region>.json``), written by
  ``tuf.ngclient`` itself, each atomically.
* ``bundle.json``: the applied bundle, byte for byte as TUF verified it.
* ``state.json``: ``{"version", "digest", "applied_at", "last_refresh_at", "last_refresh_ok",
  "last_error"}``.

Each write goes to a temporary file in the same directory, is fsynced, renamed over the old one,
and the directory is fsynced: a crash leaves the old or the new file, never half of one. At
start the agent removes temporary files a crash left behind, then re-verifies ``bundle.json``
offline against the stored metadata (the root chain from the configured trusted root, targets,
the region's role); an edited file is ``state_tampered`` and the agent starts with no bundle.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tuf.api.metadata import Metadata, Root, Targets

from agents import protocol
from agents.protocol import Bundle, TamperedStateError

BUNDLE_FILE = "bundle.json"
STATE_FILE = "state.json"
METADATA_DIR = "metadata"
TOP_LEVEL = ("root", "timestamp", "snapshot", "targets")


class InterruptedApplyError(protocol.ProtocolError):
    code = "apply_interrupted"


@dataclass
class Trust:
    """What the stored metadata says: until when it may be relied on, and the bundle's target."""

    expires: object  # datetime
    root_version: int
    role_version: int
    target_length: int
    target_sha256: str


def atomic_write(path: Path, data: bytes) -> None:
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class StateStore:
    def __init__(self, state_dir: str | os.PathLike):
        self.dir = Path(state_dir)

    @property
    def bundle_path(self) -> Path:
        return self.dir / BUNDLE_FILE

    @property
    def state_path(self) -> Path:
        return self.dir / STATE_FILE

    @property
    def metadata_dir(self) -> Path:
        return self.dir / METADATA_DIR

    def prepare(self) -> None:
        (self.metadata_dir / "root_history").mkdir(parents=True, exist_ok=True)

    def clean_leftovers(self) -> list[str]:
        """Remove temporary files a crash left mid-write: ours (``.<name>.*.tmp``) and the TUF
        client's (``tmp*`` in ``metadata/``)."""
        removed = []
        candidates = []
        if self.dir.is_dir():
            candidates += [
                p for p in self.dir.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")
            ]
        if self.metadata_dir.is_dir():
            candidates += [p for p in self.metadata_dir.iterdir() if p.name.startswith("tmp")]
        for path in candidates:
            if path.is_file() and not path.is_symlink():
                try:
                    path.unlink()
                    removed.append(path.name)
                except OSError:
                    pass
        return removed

    def read_state(self) -> dict:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise TamperedStateError(f"{self.state_path} is not valid JSON") from exc
        if not isinstance(state, dict):
            raise TamperedStateError(f"{self.state_path} is not an object")
        return state

    def read_state_safely(self) -> dict:
        try:
            return self.read_state()
        except TamperedStateError:
            return {}

    def update_state(self, **fields) -> dict:
        state = self.read_state_safely()
        state.update(fields)
        atomic_write(self.state_path, json.dumps(state, indent=2, sort_keys=True).encode())
        return state

    def save_bundle(self, bundle: Bundle, raw: bytes, *, applied_at: str, role_version: int):
        """Persist a verified bundle: the bytes first, then the state that names them."""
        atomic_write(self.bundle_path, raw)
        self.update_state(
            version=bundle.version,
            digest=bundle.digest,
            role_version=role_version,
            applied_at=applied_at,
        )

    # ------------------------------------------------------------------ offline verification

    def _md(self, name: str) -> Metadata:
        return Metadata.from_file(str(self.metadata_dir / f"{name}.json"))

    def trust(self, *, bootstrap: bytes, region: str) -> Trust:
        """Re-verify the stored metadata chain offline; expiry is reported, not enforced."""
        try:
            root = Metadata[Root].from_bytes(bootstrap)
            version = root.signed.version + 1
            while True:
                path = self.metadata_dir / "root_history" / f"{version}.root.json"
                if not path.exists():
                    break
                new = Metadata[Root].from_file(str(path))
                root.verify_delegate("root", new)
                new.verify_delegate("root", new)
                if new.signed.version != version:
                    raise ValueError(f"{path.name} holds version {new.signed.version}")
                root, version = new, version + 1
            timestamp, snapshot = self._md("timestamp"), self._md("snapshot")
            targets, role = self._md("targets"), self._md(region)
            root.verify_delegate("timestamp", timestamp)
            root.verify_delegate("snapshot", snapshot)
            root.verify_delegate("targets", targets)
            targets.verify_delegate(region, role)
            if not isinstance(role.signed, Targets):
                raise ValueError(f"{region}.json is not targets metadata")
            info = role.signed.targets[protocol.target_path(region)]
        except Exception as exc:  # noqa: BLE001 - whatever is wrong, the state cannot be trusted
            raise TamperedStateError(
                f"stored TUF metadata fails verification: {type(exc).__name__}: {exc}"[:300]
            ) from None
        expires = min(md.signed.expires for md in (root, timestamp, snapshot, targets, role))
        return Trust(
            expires,
            root.signed.version,
            role.signed.version,
            info.length,
            info.hashes.get("sha256", ""),
        )

    def load(self, *, bootstrap: bytes, region: str) -> tuple[Bundle | None, Trust | None, dict]:
        """The last good bundle and the trust it rests on; ``TamperedStateError`` if altered."""
        state = self.read_state()
        if not self.bundle_path.exists():
            if state.get("version"):
                raise TamperedStateError("state.json names a bundle but bundle.json is missing")
            return None, None, state
        trust = self.trust(bootstrap=bootstrap, region=region)
        raw = self.bundle_path.read_bytes()
        if len(raw) != trust.target_length or protocol.sha256_digest(raw) != (
            "sha256:" + trust.target_sha256
        ):
            if trust.role_version != state.get("role_version"):
                # The metadata moved on and the agent stopped before applying its target.
                raise InterruptedApplyError(
                    f"the stored metadata lists role version {trust.role_version}, the applied "
                    f"bundle came with {state.get('role_version')}: refresh to apply"
                )
            raise TamperedStateError("bundle.json is not the target the stored metadata lists")
        try:
            bundle = protocol.parse_bundle(raw, region=region)
        except protocol.ProtocolError as exc:
            raise TamperedStateError(f"stored bundle refused: {exc.message}") from None
        if state.get("digest") != bundle.digest:
            # A crash between bundle.json and state.json: the bundle was verified above.
            state = self.update_state(
                version=bundle.version, digest=bundle.digest, role_version=trust.role_version
            )
        return bundle, trust, state
