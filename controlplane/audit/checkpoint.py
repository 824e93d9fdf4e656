"""The chain's head, anchored outside the database.

The HMAC stops anyone without the key from forging links, but not from removing the newest
events, or the whole table: what is left is still a valid chain. So the nightly verification
writes the head it verified (sequence and hash) to a signed file outside the database
(``AUDIT_CHECKPOINT_FILE``) and to the log, and the next verification checks that the chain
still extends it: the event at that sequence exists and has that hash.
"""

import hmac
import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings

from controlplane.audit.keys import UnknownChainKey, current_key, key_for, sign


class CheckpointInvalid(Exception):
    """The checkpoint file exists but cannot be trusted: unreadable, malformed or not signed
    with a key of this installation."""


@dataclass(frozen=True)
class Checkpoint:
    sequence: int  # the last event verified (0: the chain was empty)
    hash: str  # its hash ("" when empty)
    keyed_from: int | None  # the first keyed event; no unkeyed event may follow it
    written_at: str  # ISO 8601, UTC

    def describe(self) -> str:
        return f"#{self.sequence} ({self.hash[:16] or 'empty'}) of {self.written_at}"


def checkpoint_path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_FILE)


def _body(checkpoint: Checkpoint, key_id: str) -> bytes:
    return json.dumps({**asdict(checkpoint), "key_id": key_id}, sort_keys=True).encode()


def read_checkpoint(path: Path | None = None) -> Checkpoint | None:
    """The last checkpoint, or ``None`` when none was ever written."""
    path = path or checkpoint_path()
    try:
        raw = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CheckpointInvalid(f"{path} cannot be read: {error}") from error
    try:
        stored = json.loads(raw)
        checkpoint = Checkpoint(
            sequence=int(stored["sequence"]),
            hash=str(stored["hash"]),
            keyed_from=None if stored["keyed_from"] is None else int(stored["keyed_from"]),
            written_at=str(stored["written_at"]),
        )
        key_id, signature = str(stored["key_id"]), str(stored["signature"])
    except (ValueError, KeyError, TypeError) as error:
        raise CheckpointInvalid(f"{path} is not a checkpoint: {error}") from error
    try:
        key = key_for(key_id)
    except UnknownChainKey as error:
        raise CheckpointInvalid(f"{path} is signed with an unknown key: {error}") from error
    if not hmac.compare_digest(sign(key, _body(checkpoint, key_id)), signature):
        raise CheckpointInvalid(f"{path}: the signature does not match (the file was altered)")
    return checkpoint


def write_checkpoint(checkpoint: Checkpoint, path: Path | None = None) -> Path:
    """Replace the checkpoint atomically (a crash leaves the old one or the new one)."""
    path = path or checkpoint_path()
    key = current_key()
    body = json.loads(_body(checkpoint, key.key_id))
    body["signature"] = sign(key, _body(checkpoint, key.key_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".audit-checkpoint-")
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(body, out, indent=2, sort_keys=True)
            out.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
