"""The agent's state directory: the last good bundle and what was accepted, applied atomically.

Files:

* ``bundle.json``: the applied envelope, byte for byte as received;
* ``state.json``: ``{"version", "digest", "keyring_version", "highest_version", "applied_at",
  "last_error"}``.

Each write goes to a temporary file in the same directory, is fsynced, renamed over the old one,
and the directory is fsynced: a crash leaves the old or the new file, never half of one. The bundle
is written before the state, so a crash between the two leaves a newer bundle with the old state,
which loading treats as an interrupted apply and repairs from the (verified) bundle.

At start ``load`` re-verifies the stored bundle's signatures against the root key and checks it
against ``state.json``; an edited file raises ``TamperedStateError`` and the agent starts with no
bundle (everything is refused by the router until a good bundle arrives).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from agents import protocol
from agents.protocol import AppliedState, ProtocolError, VerifiedBundle

BUNDLE_FILE = "bundle.json"
STATE_FILE = "state.json"


class TamperedStateError(ProtocolError):
    code = "state_tampered"


@dataclass
class LoadedState:
    bundle: VerifiedBundle | None
    applied: AppliedState
    highest_version: int
    last_error: dict | None = None


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

    def clean_leftovers(self) -> list[str]:
        """Remove temporary files a crash left mid-write (only ours: ``.<name>.*.tmp``)."""
        removed = []
        if not self.dir.is_dir():
            return removed
        for path in self.dir.iterdir():
            if path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file():
                try:
                    path.unlink()
                    removed.append(path.name)
                except OSError:
                    pass
        return removed

    def read_state(self) -> dict:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise TamperedStateError(f"{self.state_path} is not valid JSON") from exc

    def _write_state(self, state: dict) -> None:
        atomic_write(self.state_path, json.dumps(state, indent=2, sort_keys=True).encode())

    def save(self, bundle: VerifiedBundle, raw: bytes, *, applied_at: str) -> None:
        """Persist an accepted bundle. ``raw`` must be the bytes that were verified."""
        previous = self.read_state_safely()
        atomic_write(self.bundle_path, raw)
        self._write_state(
            {
                "version": bundle.version,
                "digest": bundle.digest,
                "keyring_version": bundle.keyring.version,
                "highest_version": max(bundle.version, int(previous.get("highest_version", 0))),
                "applied_at": applied_at,
                "last_error": None,
            }
        )

    def read_state_safely(self) -> dict:
        try:
            return self.read_state()
        except TamperedStateError:
            return {}

    def record_error(self, error: dict | None) -> None:
        state = self.read_state_safely()
        state["last_error"] = error
        self._write_state(state)

    def load(self, *, root_public_key, region: str, now=None) -> LoadedState:
        """Load and re-verify the last good bundle; raises ``TamperedStateError`` if altered."""
        state = self.read_state()
        if not self.bundle_path.exists():
            if state.get("version"):
                raise TamperedStateError("state.json names a bundle but bundle.json is missing")
            return LoadedState(None, AppliedState(), int(state.get("highest_version", 0)))
        raw = self.bundle_path.read_bytes()
        try:
            envelope = protocol.parse_json_bytes(raw)
            # Expiry is not checked here: an expired last good bundle still loads (and the
            # agent reports it as expired); everything else must hold.
            bundle = protocol.verify_bundle(
                envelope,
                root_public_key=root_public_key,
                region=region,
                now=now,
                check_expiry=False,
            )
        except protocol.KeyringExpiredError:
            raise
        except ProtocolError as exc:
            raise TamperedStateError(f"stored bundle fails verification: {exc.message}") from exc
        highest = int(state.get("highest_version", 0))
        if state.get("version") is None:
            raise TamperedStateError("bundle.json present but state.json is missing")
        if bundle.version < state["version"] or bundle.version < highest:
            raise TamperedStateError(
                f"stored bundle version {bundle.version} is older than the recorded version "
                f"{max(state['version'], highest)}"
            )
        if bundle.version == state["version"] and bundle.digest != state.get("digest"):
            raise TamperedStateError("stored bundle digest differs from the recorded digest")
        if bundle.version > state["version"]:
            # Crash between writing bundle.json and state.json: the bundle was verified above.
            self.save(bundle, raw, applied_at=protocol.format_time(protocol.utcnow()))
            state = self.read_state()
        applied = AppliedState(bundle.version, bundle.digest, bundle.keyring.version)
        return LoadedState(bundle, applied, max(highest, bundle.version), state.get("last_error"))
