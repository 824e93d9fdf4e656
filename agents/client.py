"""The agent core: fetch, verify, apply, report. HTTP through ``agents.transport``.

``Agent.accept`` is the single entry for a bundle, whether it was polled or pushed: it verifies
the envelope and the freshness statement against what is applied, persists atomically, and only
then swaps the in-memory bundle. A refusal leaves the last good bundle applied and is reported.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime

from agents import __version__, protocol
from agents.config import AgentConfig
from agents.protocol import AppliedState, ProtocolError, VerifiedBundle
from agents.router import RouteDecision, route
from agents.state import StateStore
from agents.transport import TransportError, request

log = logging.getLogger("sovereign.agent")

BUNDLE_PATH = "/api/v1/agent/bundle"
STATUS_PATH = "/api/v1/agent/status"


@dataclass(frozen=True)
class PollResult:
    outcome: str  # applied | unchanged | refused | error
    version: int = 0
    detail: str = ""
    code: str = ""


def next_delay(
    errors: int, config: AgentConfig, rng: random.Random, *, long_poll: bool = False
) -> float:
    """Seconds until the next poll: jitter between min and max, exponential backoff on errors."""
    if errors > 0:
        ceiling = min(config.backoff_max, config.poll_min * (2**errors))
        return rng.uniform(ceiling / 2, ceiling)
    if long_poll:
        return rng.uniform(0, min(1.0, config.poll_min))
    return rng.uniform(config.poll_min, config.poll_max)


def _transport_refusal(exc: TransportError) -> ProtocolError:
    """A response we could not use is a refusal, reported with the transport's reason."""
    refusal = ProtocolError(exc.message)
    refusal.code = exc.code  # too_large, bad_http, redirect_refused, malformed, bad_url
    return refusal


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        *,
        clock=protocol.utcnow,
        rng: random.Random | None = None,
    ):
        config.require("region", "root_key")
        self.config = config
        self.root_key = protocol.load_public_key(config.root_key)
        self.store = StateStore(config.state_dir)
        self.clock = clock
        self.rng = rng or random.Random()
        self.lock = threading.RLock()
        self.bundle: VerifiedBundle | None = None
        self.applied = AppliedState()
        self.last_error: dict | None = None
        self.errors = 0

    # ------------------------------------------------------------------ state

    def load(self) -> None:
        """Load the last good bundle from disk; works with the control plane down."""
        try:
            loaded = self.store.load(
                root_public_key=self.root_key, region=self.config.region, now=self.clock()
            )
        except ProtocolError as exc:
            log.error("state directory refused: %s", exc.message)
            self._set_error(exc)
            return
        with self.lock:
            self.bundle = loaded.bundle
            self.applied = loaded.applied
            self.last_error = loaded.last_error
        if loaded.bundle:
            log.info("loaded bundle version %s from %s", loaded.applied.version, self.store.dir)

    def _set_error(self, exc: ProtocolError | None) -> None:
        self.last_error = exc.as_dict() if exc else None
        try:
            self.store.record_error(self.last_error)
        except OSError:
            log.exception("cannot record the error in the state directory")

    @property
    def expired(self) -> bool:
        return self.bundle is not None and self.bundle.expires <= self.clock()

    def status(self) -> dict:
        with self.lock:
            bundle = self.bundle
            return {
                "region": self.config.region,
                "applied_version": self.applied.version or None,
                "applied_digest": self.applied.digest or None,
                "bundle_expires": protocol.format_time(bundle.expires) if bundle else None,
                "expired": self.expired,
                "agent_version": __version__,
                "last_error": self.last_error,
            }

    # ------------------------------------------------------------------ apply

    def accept(self, raw: bytes, freshness_header: str | None, *, source: str) -> VerifiedBundle:
        """Verify and apply one bundle. Raises ``ProtocolError`` on refusal."""
        with self.lock:
            now = self.clock()
            try:
                envelope = protocol.parse_json_bytes(raw, max_bytes=self.config.max_bundle_bytes)
                bundle = protocol.verify_bundle(
                    envelope,
                    root_public_key=self.root_key,
                    region=self.config.region,
                    applied=self.applied,
                    now=now,
                )
                freshness = protocol.verify_freshness(
                    protocol.decode_header(freshness_header),
                    keyring=bundle.keyring,
                    region=self.config.region,
                    now=now,
                    applied=self.applied,
                )
                protocol.check_bundle_matches_freshness(bundle, freshness)
            except ProtocolError as exc:
                log.warning("refused %s bundle: %s (%s)", source, exc.message, exc.code)
                self._set_error(exc)
                raise
            if (
                bundle.digest == self.applied.digest
                and bundle.keyring.version <= self.applied.keyring_version
            ):
                return bundle
            self.store.save(bundle, raw, applied_at=protocol.format_time(now))
            self.bundle = bundle
            self.applied = AppliedState(bundle.version, bundle.digest, bundle.keyring.version)
            self.last_error = None
            log.info("applied %s bundle version %s (%s)", source, bundle.version, bundle.digest)
            return bundle

    def check_unchanged(self, freshness_header: str | None) -> protocol.Freshness:
        """A 304: the statement must be signed, current, for us, and name what we hold."""
        with self.lock:
            if self.bundle is None:
                raise protocol.MalformedError("304 received but no bundle is applied")
            try:
                freshness = protocol.verify_freshness(
                    protocol.decode_header(freshness_header),
                    keyring=self.bundle.keyring,
                    region=self.config.region,
                    now=self.clock(),
                    applied=self.applied,
                )
                if freshness.latest_version != self.applied.version:
                    raise protocol.FreshnessMismatchError(
                        f"304 but the server announces version {freshness.latest_version}"
                    )
            except ProtocolError as exc:
                self._set_error(exc)
                raise
            if self.last_error and self.last_error.get("code") != "bundle_expired":
                self._set_error(None)
            return freshness

    def route(self, metadata, *, now: datetime | None = None) -> RouteDecision:
        with self.lock:
            bundle = self.bundle
        if bundle is None:
            return RouteDecision(False, "no_bundle", "no valid bundle is applied (default deny)")
        return route(metadata, bundle.content, now=now or self.clock())

    # ------------------------------------------------------------------ HTTP

    def _request(self, method: str, path: str, *, body=None, headers=None, timeout=None):
        """One call to the control plane through ``agents.transport``: an overall deadline,
        the body capped, no redirect to another origin. Raises ``TransportError`` only."""
        self.config.require("url", "token")
        url = self.config.url.rstrip("/") + path
        data = protocol.canonical_json(body) if body is not None else None
        all_headers = {
            "Authorization": f"Bearer {self.config.token}",
            "User-Agent": f"sovereign-agent/{__version__}",
        }
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        return request(
            method,
            url,
            headers=all_headers,
            body=data,
            deadline_s=timeout or self.config.timeout,
            max_bytes=self.config.max_bundle_bytes,
        )

    def poll_once(self, *, conditional: bool = True) -> PollResult:
        headers = {"Accept": "application/json"}
        if conditional and self.applied.digest:
            headers["If-None-Match"] = f'"{self.applied.digest}"'
        timeout = self.config.timeout
        if self.config.long_poll > 0:
            headers["Prefer"] = f"wait={self.config.long_poll}"
            timeout += self.config.long_poll
        try:
            resp = self._request("GET", BUNDLE_PATH, headers=headers, timeout=timeout)
        except TransportError as exc:
            with self.lock:
                self._set_error(_transport_refusal(exc))
            outcome = "error" if exc.code in ("unreachable", "timeout") else "refused"
            return PollResult(outcome, self.applied.version, exc.message, exc.code)
        freshness = resp.header(protocol.FRESHNESS_HEADER)
        try:
            if resp.status == 304:
                try:
                    self.check_unchanged(freshness)
                except (protocol.UnendorsedKeyError, protocol.FreshnessMismatchError):
                    if conditional:
                        # The signing key rotated or the server moved on: fetch in full.
                        return self.poll_once(conditional=False)
                    raise
                return PollResult("unchanged", self.applied.version)
            if resp.status != 200:
                body = resp.body[:2048].decode("utf-8", "replace")
                return PollResult("error", self.applied.version, f"HTTP {resp.status}: {body}")
            raw = resp.body
        except ProtocolError as exc:
            self._set_error(exc)
            return PollResult("refused", self.applied.version, exc.message, exc.code)
        before = self.applied.version
        try:
            bundle = self.accept(raw, freshness, source="polled")
        except ProtocolError as exc:
            return PollResult("refused", self.applied.version, exc.message, exc.code)
        if bundle.version == before:
            return PollResult("unchanged", bundle.version)
        return PollResult("applied", bundle.version)

    def report_status(self) -> bool:
        if not (self.config.url and self.config.token):
            return False  # push-only agent with no control plane configured
        body = self.status()
        try:
            resp = self._request("POST", STATUS_PATH, body=body)
        except TransportError as exc:
            log.warning("status report failed: %s", exc)
            return False
        return 200 <= resp.status < 300

    # ------------------------------------------------------------------ loop

    def run(self, stop: threading.Event) -> None:
        self.load()
        reported = None
        while not stop.is_set():
            result = self.poll_once_safely()
            if result.outcome in ("applied", "refused") or reported != (
                self.applied.digest,
                self.last_error,
            ):
                try:
                    if self.report_status():
                        reported = (self.applied.digest, self.last_error)
                except Exception:  # noqa: BLE001 - a report that fails is retried next round
                    log.exception("status report failed")
            if result.outcome in ("error", "refused"):
                self.errors += 1
                log.warning("poll %s: %s", result.outcome, result.detail)
            else:
                self.errors = 0
            stop.wait(
                next_delay(self.errors, self.config, self.rng, long_poll=self.config.long_poll > 0)
            )

    def poll_once_safely(self) -> PollResult:
        """``poll_once`` that never raises: whatever goes wrong is a reported refusal."""
        try:
            return self.poll_once()
        except Exception as exc:  # noqa: BLE001 - the loop must survive anything a server sends
            log.exception("poll failed unexpectedly")
            error = protocol.MalformedError(f"{type(exc).__name__}: {exc}"[:500])
            with self.lock:
                self._set_error(error)
            return PollResult("refused", self.applied.version, error.message, error.code)

    def report_async(self) -> None:
        threading.Thread(target=self.report_status, daemon=True).start()
