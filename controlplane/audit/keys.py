"""The audit chain's key: an HMAC key the database never holds.

A hash chain alone proves nothing against someone who can write the table: they edit an event
and recompute every hash after it. Keyed with ``AUDIT_CHAIN_KEY`` (an environment variable or
a file, never a row), each link is an HMAC-SHA256 that only a holder of the key can compute.

Each event records the id of the key that signed it (a fingerprint, not the key), so the key
can be rotated: the new key signs from then on, and the old one stays readable in
``AUDIT_CHAIN_RETIRED_KEYS`` for verification. Events written before the chain was keyed carry
no key id and a plain SHA-256 link; the first keyed event after them covers their last hash,
so they are sealed by it (see ``selectors.verify_chain``).
"""

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

UNKEYED = ""  # the key id of events written before the chain was keyed


class UnknownChainKey(Exception):
    """An event names a key this installation does not have."""


@dataclass(frozen=True)
class ChainKey:
    key_id: str
    secret: bytes

    def __repr__(self):  # never the secret, in a traceback or a log
        return f"ChainKey({self.key_id!r})"


def key_id_of(secret: bytes) -> str:
    """A public fingerprint of a key: names it on each event without revealing it."""
    return hmac.new(secret, b"controlplane audit chain key id", hashlib.sha256).hexdigest()[:16]


@lru_cache(maxsize=8)
def _keyring(current: str, retired: tuple[str, ...]) -> tuple[ChainKey, dict[str, ChainKey]]:
    keys = [ChainKey(key_id_of(value.encode()), value.encode()) for value in (current, *retired)]
    return keys[0], {key.key_id: key for key in reversed(keys)}


def _settings_keyring():
    return _keyring(settings.AUDIT_CHAIN_KEY, tuple(settings.AUDIT_CHAIN_RETIRED_KEYS))


def current_key() -> ChainKey:
    return _settings_keyring()[0]


def key_for(key_id: str) -> ChainKey:
    try:
        return _settings_keyring()[1][key_id]
    except KeyError:
        raise UnknownChainKey(
            f"key {key_id} is neither AUDIT_CHAIN_KEY nor one of AUDIT_CHAIN_RETIRED_KEYS"
        ) from None


def link(key_id: str, previous_hash: str, content: bytes) -> str:
    """The hash of one link of the chain: HMAC-SHA256 with the event's key, or plain SHA-256 for
    an event written before the chain was keyed."""
    message = previous_hash.encode() + b"\n" + content
    if key_id == UNKEYED:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key_for(key_id).secret, message, hashlib.sha256).hexdigest()


def sign(key: ChainKey, content: bytes) -> str:
    """A signature over something other than an event (the checkpoint file)."""
    return hmac.new(key.secret, b"checkpoint\n" + content, hashlib.sha256).hexdigest()
