"""The agent core: a TUF client (``tuf.ngclient.Updater``) that applies its region's bundle.

One refresh: walk the root chain, fetch the timestamp, and only when it moved the snapshot,
targets and the region's role; then download the region's bundle only when its hashes changed,
verify them (TUF) and its shape (``agents.protocol``), and apply it atomically. Every request
goes through ``agents.transport`` (an overall deadline, bounded sizes, no redirect to another
origin). Whatever fails is a refusal with a stable code, recorded in the state directory and
reported to the control plane; the last good bundle stays applied.

Fail closed: once the trusted metadata expires (the timestamp is short-lived, so a control plane
unreachable for longer than ``TUF_TIMESTAMP_EXPIRY_SECONDS`` or a frozen one both end here), the
router refuses everything and says why, until a refresh succeeds.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tuf.api import exceptions as tuf_errors
from tuf.api.exceptions import DownloadHTTPError
from tuf.ngclient import Updater, UpdaterConfig
from tuf.ngclient.fetcher import FetcherInterface

from agents import __version__, protocol, routing
from agents.config import AgentConfig, ConfigError
from agents.protocol import Bundle, ProtocolError
from agents.router import RouteDecision, route
from agents.state import StateStore, Trust
from agents.transport import TransportError, parse_json, request

log = logging.getLogger("sovereign.agent")

TUF_PATH = "/api/v1/agent/tuf/"
TARGETS_PATH = "/api/v1/agent/tuf/targets/"
STATUS_PATH = "/api/v1/agent/status"
MIN_SIGNAL_INTERVAL = 1.0


@dataclass(frozen=True)
class PollResult:
    outcome: str  # applied | unchanged | refused | error
    version: int = 0
    detail: str = ""
    code: str = ""


def next_delay(errors: int, config: AgentConfig, rng: random.Random) -> float:
    """Seconds until the next refresh: jitter between min and max, exponential backoff on errors."""
    if errors > 0:
        ceiling = min(config.backoff_max, config.poll_min * (2**errors))
        return rng.uniform(ceiling / 2, ceiling)
    return rng.uniform(config.poll_min, config.poll_max)


class TransportFetcher(FetcherInterface):
    """python-tuf's fetcher over ``agents.transport``: the agent's token, a deadline per file,
    and the length TUF expects as the body cap (endless data stops at the cap)."""

    def __init__(self, *, token: str, deadline_s: float, max_bytes: int):
        self.token = token
        self.deadline_s = deadline_s
        self.max_bytes = max_bytes
        self._cap = threading.local()

    @contextmanager
    def download_file(self, url: str, max_length: int):
        self._cap.value = min(max_length, self.max_bytes)
        with super().download_file(url, max_length) as fh:
            yield fh

    def _fetch(self, url: str):
        cap = getattr(self._cap, "value", self.max_bytes)
        resp = request(
            "GET",
            url,
            headers={
                "Authorization": f"Bearer {self.token}",
                "User-Agent": f"sovereign-agent/{__version__}",
                "Accept": "application/json",
            },
            deadline_s=self.deadline_s,
            max_bytes=cap,
        )
        if resp.status != 200:
            raise DownloadHTTPError(f"HTTP {resp.status} for {url.rsplit('/', 1)[-1]}", resp.status)
        if TARGETS_PATH not in url:
            # Metadata must be strict JSON before python-tuf parses it: no NaN, no 1e400, no lone
            # surrogates, bounded nesting.
            try:
                parse_json(resp.body)
            except ValueError as exc:
                raise TransportError("malformed", f"{url.rsplit('/', 1)[-1]}: {exc}") from None
        return iter([resp.body])


def refusal_from(exc: BaseException) -> ProtocolError:
    """One stable code per way a refresh can fail."""
    if isinstance(exc, ProtocolError):
        return exc
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, tuf_errors.DownloadError) and isinstance(cause, TransportError):
        exc = cause
    if isinstance(exc, TransportError):
        return ProtocolError(exc.message[:300], code=exc.code)
    table = [
        (tuf_errors.ExpiredMetadataError, "metadata_expired"),
        (tuf_errors.BadVersionNumberError, "rollback"),
        (tuf_errors.UnsignedMetadataError, "bad_signature"),
        (tuf_errors.LengthOrHashMismatchError, "hash_mismatch"),
        (tuf_errors.DownloadLengthMismatchError, "too_large"),
        (tuf_errors.SlowRetrievalError, "timeout"),
        (tuf_errors.DownloadHTTPError, "http_error"),
        (tuf_errors.DownloadError, "unreachable"),
        (tuf_errors.RepositoryError, "repository_error"),
    ]
    for kind, code in table:
        if isinstance(exc, kind):
            return ProtocolError(f"{type(exc).__name__}: {exc}"[:300], code=code)
    if type(exc).__name__ == "DeserializationError":
        return ProtocolError(f"metadata is not valid: {exc}"[:300], code="malformed")
    return ProtocolError(f"{type(exc).__name__}: {exc}"[:300], code="internal")


class NotServing(ProtocolError):
    """The agent answers nothing from its bundle now (none applied, trust expired, or no
    routing table in it): a refusal with a stable ``code``, never a guess."""

    code = "not_serving"


class Agent:
    def __init__(self, config: AgentConfig, *, clock=protocol.utcnow, rng=None):
        config.require("region", "trusted_root")
        self.config = config
        self.bootstrap = _read_root(config.trusted_root)
        self.store = StateStore(config.state_dir)
        self.clock = clock
        self.rng = rng or random.Random()
        self.lock = threading.RLock()
        self.refresh_lock = threading.Lock()
        self.wake = threading.Event()
        self.bundle: Bundle | None = None
        self.trust: Trust | None = None
        self.state: dict = {}
        self.last_error: dict | None = None
        self.errors = 0
        self._last_refresh_started = float("-inf")

    # ------------------------------------------------------------------ state

    def load(self) -> None:
        """Load the last good bundle and its trust from disk; works with the control plane down."""
        removed = self.store.clean_leftovers()
        if removed:
            log.info("removed leftovers of an interrupted write: %s", ", ".join(removed))
        self.store.prepare()
        try:
            bundle, trust, state = self.store.load(
                bootstrap=self.bootstrap, region=self.config.region
            )
        except ProtocolError as exc:
            log.error("state directory refused: %s", exc.message)
            with self.lock:
                self.state = self.store.read_state_safely()
                self._set_error(exc)
            return
        with self.lock:
            self.bundle, self.trust, self.state = bundle, trust, state
            self.last_error = state.get("last_error")
        if bundle:
            log.info("loaded bundle version %s from %s", bundle.version, self.store.dir)

    def _set_error(self, exc: ProtocolError | None) -> None:
        self.last_error = exc.as_dict() if exc else None
        try:
            self.state = self.store.update_state(last_error=self.last_error)
        except OSError:
            log.exception("cannot record the error in the state directory")

    @property
    def expired(self) -> bool:
        trust = self.trust
        return trust is None or trust.expires <= self.clock()

    def status(self) -> dict:
        with self.lock:
            bundle, trust, state = self.bundle, self.trust, self.state
            return {
                "region": self.config.region,
                "applied_version": bundle.version if bundle else None,
                "applied_digest": bundle.digest if bundle else None,
                "expires": protocol.format_time(trust.expires) if trust else None,
                "expired": bundle is not None and self.expired,
                "last_refresh_at": state.get("last_refresh_at"),
                "last_refresh_ok": bool(state.get("last_refresh_ok")),
                "agent_version": __version__,
                "last_error": self.last_error,
            }

    def _serving(self, now: datetime) -> Bundle:
        """The applied bundle, if it may be acted on at ``now``; else :class:`NotServing`."""
        with self.lock:
            bundle, trust = self.bundle, self.trust
        if bundle is None:
            raise NotServing("no valid bundle is applied (default deny)", code="no_bundle")
        if trust is None or trust.expires <= now:
            when = protocol.format_time(trust.expires) if trust else "unknown"
            last = self.state.get("last_refresh_at") or "never"
            why = (self.last_error or {}).get("code", "none")
            raise NotServing(
                f"trusted metadata expired at {when} (last successful refresh {last}, last "
                f"failure {why}); routing nothing until a refresh succeeds",
                code="expired",
            )
        return bundle

    def route(self, metadata, *, now: datetime | None = None) -> RouteDecision:
        now = now or self.clock()
        try:
            bundle = self._serving(now)
        except NotServing as refusal:
            return RouteDecision(False, refusal.code, refusal.message)
        return route(metadata, bundle.content, now=now)

    def resolve(self, question, *, now: datetime | None = None) -> dict:
        """A gateway's question answered from the routing table of the applied bundle: the
        same pure function as the control plane's ``GET /api/v1/routing/resolve``.

        ``question`` is ``{"country", "categories"?, "model"?}`` and nothing else. Raises
        :class:`routing.RoutingInputError` for a bad question (naming the field),
        :class:`NotServing` when nothing may be answered (no bundle, trust expired, no table)
        and ``MalformedError`` for a body that is not such an object."""
        if not isinstance(question, dict):
            raise protocol.MalformedError("the question must be a JSON object")
        unknown = set(question) - {"country", "categories", "model"}
        if unknown:
            raise protocol.MalformedError(f"unknown fields: {', '.join(sorted(unknown))[:200]}")
        country, categories, model = routing.parse_question(
            question.get("country"), question.get("categories") or (), question.get("model")
        )
        bundle = self._serving(now or self.clock())
        taxonomy = bundle.content.get("categories")
        if taxonomy:
            known = set(taxonomy)
            for key in categories:
                if key not in known:
                    raise routing.RoutingInputError(
                        "category", f"{key[:80]!r} is not a data category of the taxonomy."
                    )
        try:
            answer = routing.resolve(bundle.content.get("routing"), country, categories, model)
        except routing.RoutingTableError as exc:
            raise NotServing(
                f"{exc} (bundle version {bundle.version})", code="no_routing_table"
            ) from None
        answer["bundle_version"] = bundle.version
        return answer

    # ------------------------------------------------------------------ TUF

    def _updater(self) -> Updater:
        self.config.require("url", "token")
        base = self.config.url.rstrip("/")
        fetcher = TransportFetcher(
            token=self.config.token,
            deadline_s=self.config.timeout,
            max_bytes=self.config.max_bundle_bytes,
        )
        config = UpdaterConfig(
            max_root_rotations=64,
            max_delegations=4,
            root_max_length=256 * 1024,
            timestamp_max_length=16 * 1024,
            snapshot_max_length=2 * 1024 * 1024,
            targets_max_length=2 * 1024 * 1024,
            app_user_agent=f"sovereign-agent/{__version__}",
        )
        return Updater(
            metadata_dir=str(self.store.metadata_dir),
            metadata_base_url=base + TUF_PATH,
            target_base_url=base + TARGETS_PATH,
            fetcher=fetcher,
            config=config,
            bootstrap=self.bootstrap,
        )

    def _refresh(self) -> PollResult:
        region = self.config.region
        updater = self._updater()
        updater.refresh()
        info = updater.get_targetinfo(protocol.target_path(region))
        if info is None:
            raise ProtocolError(f"the repository lists no bundle for {region}", code="no_target")
        trust = self.store.trust(bootstrap=self.bootstrap, region=region)
        now = self.clock()
        with self.lock:
            current = self.bundle
        if current is not None and current.digest == "sha256:" + info.hashes.get("sha256", ""):
            self._refreshed(trust, now)
            return PollResult("unchanged", current.version)
        if info.length > self.config.max_bundle_bytes:
            raise protocol.TooLargeError(
                f"bundle of {info.length} bytes exceeds the cap of {self.config.max_bundle_bytes}"
            )
        tmp = self.store.dir / f".download.{os.getpid()}.tmp"
        try:
            updater.download_target(info, filepath=str(tmp))
            raw = tmp.read_bytes()
        finally:
            tmp.unlink(missing_ok=True)
        bundle = protocol.parse_bundle(raw, region=region)
        with self.lock:
            self.store.save_bundle(
                bundle,
                raw,
                applied_at=protocol.format_time(now),
                role_version=trust.role_version,
            )
            self.bundle = bundle
            self._refreshed(trust, now)
        log.info("applied bundle version %s (%s)", bundle.version, bundle.digest)
        return PollResult("applied", bundle.version)

    def _refreshed(self, trust: Trust, now) -> None:
        with self.lock:
            self.trust = trust
            self.last_error = None
            self.state = self.store.update_state(
                last_refresh_at=protocol.format_time(now), last_refresh_ok=True, last_error=None
            )

    def poll_once(self) -> PollResult:
        """One refresh. Never raises: whatever goes wrong is a reported refusal."""
        with self.refresh_lock:
            version = self.bundle.version if self.bundle else 0
            try:
                return self._refresh()
            except Exception as exc:  # noqa: BLE001 - a server must never end the agent
                refusal = refusal_from(exc)
                if refusal.code == "internal":
                    log.exception("refresh failed unexpectedly")
                else:
                    log.warning("refresh refused: %s (%s)", refusal.message, refusal.code)
                with self.lock:
                    self._set_error(refusal)
                    try:
                        self.state = self.store.update_state(last_refresh_ok=False)
                    except OSError:
                        pass
                    self._recheck_expiry()
                outcome = "error" if refusal.code in ("unreachable", "timeout") else "refused"
                return PollResult(outcome, version, refusal.message, refusal.code)

    def _recheck_expiry(self) -> None:
        """After a failed refresh the stored metadata may have moved (root rotated, say)."""
        try:
            trust = self.store.trust(bootstrap=self.bootstrap, region=self.config.region)
        except ProtocolError:
            return
        if self.trust is None or trust.role_version == self.trust.role_version:
            self.trust = trust if self.bundle is not None else None

    def signal(self) -> bool:
        """A push: refresh soon. Carries nothing trusted. Signals coalesce into one wake-up and
        are never dropped (the latest change must not wait for the next poll); the loop itself
        refreshes at most once per ``MIN_SIGNAL_INTERVAL``. True when this signal woke the loop."""
        already = self.wake.is_set()
        self.wake.set()
        return not already

    # ------------------------------------------------------------------ reporting

    def report_status(self) -> bool:
        if not (self.config.url and self.config.token):
            return False
        body = protocol.canonical_json(self.status())
        try:
            resp = request(
                "POST",
                self.config.url.rstrip("/") + STATUS_PATH,
                headers={
                    "Authorization": f"Bearer {self.config.token}",
                    "Content-Type": "application/json",
                    "User-Agent": f"sovereign-agent/{__version__}",
                },
                body=body,
                deadline_s=self.config.timeout,
                max_bytes=64 * 1024,
            )
        except TransportError as exc:
            log.warning("status report failed: %s", exc)
            return False
        if not 200 <= resp.status < 300:
            log.warning("status report answered %s", resp.status)
        return 200 <= resp.status < 300

    # ------------------------------------------------------------------ loop

    def run(self, stop: threading.Event) -> None:
        reported = None
        while not stop.is_set():
            # However many pushes arrive, refresh at most once per MIN_SIGNAL_INTERVAL.
            rest = self._last_refresh_started + MIN_SIGNAL_INTERVAL - time.monotonic()
            if rest > 0 and stop.wait(rest):
                break
            self.wake.clear()
            self._last_refresh_started = time.monotonic()
            result = self.poll_once()
            snapshot = (result.version, str(self.last_error), self.state.get("last_refresh_at"))
            if result.outcome != "unchanged" or reported != snapshot[:2]:
                try:
                    if self.report_status():
                        reported = snapshot[:2]
                except Exception:  # noqa: BLE001 - a report that fails is retried next round
                    log.exception("status report failed")
            if result.outcome in ("error", "refused"):
                self.errors += 1
            else:
                self.errors = 0
            self.wake.wait(next_delay(self.errors, self.config, self.rng))


def _read_root(value: str) -> bytes:
    """``trusted_root`` is a path to root metadata (JSON); its bytes are TUF's bootstrap."""
    try:
        data = Path(value).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the trusted root {value}: {exc}") from None
    try:
        protocol.parse_json_bytes(data, max_bytes=256 * 1024)
    except ProtocolError as exc:
        raise ConfigError(f"trusted root {value} is not JSON: {exc.message}") from None
    return data
