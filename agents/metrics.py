"""Metric aggregation inside the region: observe, aggregate, suppress, add noise, spool, send.

Services in the region hand the agent observations (``MetricsPipeline.observe`` or
``POST /observe`` on the agent's listen address). Observations never leave the agent: per
period it builds aggregates for each dimension set of the catalogue in its bundle, suppresses
every cell with fewer than k observations, and then the cells that would let a suppressed one
be recovered from a total (secondary suppression). With an epsilon in the bundle it adds
Laplace noise from OpenDP. Each period becomes one batch with an idempotency key, written to
an on-disk spool first and sent oldest first; a batch leaves the spool only when the control
plane answered for it, so an outage or a restart loses nothing and a retry stores once.

Sending goes through an injected ``send(path, body) -> (status, answer)`` that raises
``SendError`` when the control plane cannot be reached. No Django here.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import secrets
import string
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("sovereign.agent.metrics")

METRICS_PATH = "/api/v1/agent/metrics"
COUNTER, GAUGE, QUANTILE = "counter", "gauge", "quantile"
PERIODS = (60, 300, 900, 3600)
MAX_CELL_SAMPLES = 2048  # a quantile cell keeps a uniform sample of at most this many values
MAX_OPEN_CELLS = 20_000  # distinct (period, metric, dimensions) cells held in memory
MAX_BATCH_ITEMS = 2000


class SendError(Exception):
    """The control plane could not be reached (or timed out); the batch stays spooled."""


class ObservationRefused(ValueError):
    """An observation outside the catalogue. ``code`` is stable, the message says why."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


# ------------------------------------------------------------------------------------ catalogue


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    dimensions: dict  # dimension -> tuple of allowed values
    dimension_sets: tuple  # tuples of dimension names
    minimum: float
    maximum: float
    observe: str
    quantile: float | None = None


@dataclass(frozen=True)
class Catalogue:
    entries: tuple = ()
    k: int = 10
    epsilon: float | None = None

    @classmethod
    def from_bundle(cls, part: dict | None) -> Catalogue:
        part = part or {}
        entries = []
        for raw in part.get("catalogue") or []:
            entries.append(
                Entry(
                    name=raw["name"],
                    kind=raw["kind"],
                    dimensions={k: tuple(v) for k, v in (raw.get("dimensions") or {}).items()},
                    dimension_sets=tuple(tuple(s) for s in raw.get("dimension_sets") or [[]]),
                    minimum=float(raw["minimum"]),
                    maximum=float(raw["maximum"]),
                    observe=raw.get("observe") or raw["name"],
                    quantile=raw.get("quantile"),
                )
            )
        epsilon = part.get("epsilon")
        return cls(tuple(entries), int(part.get("k") or 10), float(epsilon) if epsilon else None)

    def fed_by(self, observed: str) -> list[Entry]:
        return [e for e in self.entries if e.observe == observed]

    def check(self, name: str, value, dimensions: dict) -> list[Entry]:
        """The entries an observation feeds, or ``ObservationRefused``."""
        entries = self.fed_by(name)
        if not entries:
            raise ObservationRefused("unknown_metric", "not an observation of the catalogue")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ObservationRefused("invalid_value", "the value must be a finite number")
        allowed = entries[0].dimensions
        widest = max((set(s) for s in entries[0].dimension_sets), key=len)
        if not isinstance(dimensions, dict) or set(dimensions) != widest:
            raise ObservationRefused(
                "invalid_dimensions", f"give exactly these dimensions: {sorted(widest) or 'none'}"
            )
        for dim, dim_value in dimensions.items():
            if dim_value not in allowed.get(dim, ()):
                raise ObservationRefused("unknown_value", f"not an allowed value of {dim}")
        return entries


# ------------------------------------------------------------------------------------- cells


@dataclass
class Cell:
    """The observations of one (metric, full dimension combination) in one period."""

    count: int = 0
    total: float = 0.0
    samples: list = field(default_factory=list)
    seen: int = 0

    def add(self, value: float, rng: random.Random, keep_samples: bool) -> None:
        self.count += 1
        self.total += value
        if keep_samples:
            self.seen += 1
            if len(self.samples) < MAX_CELL_SAMPLES:
                self.samples.append(value)
            else:  # reservoir sampling: every value equally likely to be kept
                slot = rng.randrange(self.seen)
                if slot < MAX_CELL_SAMPLES:
                    self.samples[slot] = value


@dataclass
class Aggregate:
    metric: str
    dimensions: dict
    count: int
    value: float
    suppressed: bool = False

    @property
    def key(self) -> tuple:
        return (self.metric, tuple(sorted(self.dimensions.items())))


def _quantile(values: list, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def aggregate(cells: dict, catalogue: Catalogue) -> list[Aggregate]:
    """Per catalogue entry and dimension set, combine the fine cells into aggregates.

    ``cells`` maps ``(observed name, ((dim, value), ...))`` -> ``Cell`` with every dimension of
    the widest set. Pure.
    """
    out = []
    for entry in catalogue.entries:
        fine = {dims: cell for (name, dims), cell in cells.items() if name == entry.observe}
        if not fine:
            continue
        for dim_set in entry.dimension_sets:
            groups: dict = defaultdict(list)
            for dims, cell in fine.items():
                groups[tuple((d, v) for d, v in dims if d in dim_set)].append(cell)
            for group_dims, members in sorted(groups.items()):
                count = sum(m.count for m in members)
                if entry.kind == COUNTER:
                    value = sum(min(max(m.total, 0.0), entry.maximum * m.count) for m in members)
                elif entry.kind == GAUGE:
                    value = sum(m.total for m in members) / count
                    value = min(max(value, entry.minimum), entry.maximum)
                else:
                    values = [v for m in members for v in m.samples]
                    value = _quantile(values, entry.quantile or 0.5)
                    value = min(max(value, entry.minimum), entry.maximum)
                out.append(Aggregate(entry.name, dict(group_dims), count, value))
    return out


def suppress(aggregates: list[Aggregate], catalogue: Catalogue) -> list[Aggregate]:
    """Mark cells below k (primary), then enough siblings that no total reveals one (secondary).

    For every pair of released dimension sets where the finer one adds one dimension, the
    finer cells that share the coarser cell's values form a group whose sum the coarser cell
    discloses. A group with exactly one suppressed member would give that member away by
    subtraction, so the smallest other member is suppressed too (or, when there is none, the
    coarser cell). Repeats until nothing changes, across all dimension sets. Pure; returns
    the same list with ``suppressed`` set.
    """
    k = catalogue.k
    for a in aggregates:
        a.suppressed = a.count < k
    by_metric: dict = defaultdict(list)
    for a in aggregates:
        by_metric[a.metric].append(a)
    entries = {e.name: e for e in catalogue.entries}
    changed = True
    while changed:
        changed = False
        for metric, cells in by_metric.items():
            entry = entries.get(metric)
            if entry is None:
                continue
            sets = [frozenset(s) for s in entry.dimension_sets]
            for coarse in sets:
                for fine in sets:
                    if not (coarse < fine and len(fine - coarse) == 1):
                        continue
                    changed |= _protect(cells, coarse, fine)
    return aggregates


def _protect(cells: list[Aggregate], coarse: frozenset, fine: frozenset) -> bool:
    parents = {tuple(sorted(c.dimensions.items())): c for c in cells if set(c.dimensions) == coarse}
    groups: dict = defaultdict(list)
    for c in cells:
        if set(c.dimensions) == fine:
            groups[tuple(sorted((d, v) for d, v in c.dimensions.items() if d in coarse))].append(c)
    changed = False
    for parent_key, members in groups.items():
        parent = parents.get(parent_key)
        if parent is None or parent.suppressed:
            continue
        hidden = [m for m in members if m.suppressed]
        if len(hidden) != 1:
            continue
        shown = sorted((m for m in members if not m.suppressed), key=lambda m: (m.count, m.key))
        if shown:
            shown[0].suppressed = True
        else:
            parent.suppressed = True
        changed = True
    return changed


# ------------------------------------------------------------------------------------- noise


class LaplaceNoise:
    """Laplace noise from OpenDP: ``value(x, sensitivity, epsilon)`` and ``count(n, epsilon)``.

    OpenDP samples from its own cryptographically secure source and takes no seed.
    """

    def __init__(self):
        import opendp.prelude as dp

        dp.enable_features("contrib")
        self._dp = dp
        self._float: dict = {}
        self._int: dict = {}

    def value(self, x: float, *, sensitivity: float, epsilon: float) -> float:
        scale = sensitivity / epsilon
        if scale <= 0:
            return x
        mech = self._float.get(scale)
        if mech is None:
            dp = self._dp
            space = dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float)
            mech = self._float[scale] = dp.m.make_laplace(*space, scale=scale)
        return float(mech(float(x)))

    def count(self, n: int, *, epsilon: float) -> int:
        scale = 1.0 / epsilon
        mech = self._int.get(scale)
        if mech is None:
            dp = self._dp
            space = dp.atom_domain(T=int), dp.absolute_distance(T=int)
            mech = self._int[scale] = dp.m.make_laplace(*space, scale=scale)
        return int(mech(int(n)))


def add_noise(aggregates: list[Aggregate], catalogue: Catalogue, noise) -> list[Aggregate]:
    """With an epsilon, each released number gets Laplace noise; results clamped into range.

    Counts: sensitivity 1. Counters: one observation moves the sum by at most ``maximum``.
    Gauges and quantiles: one observation moves a mean of n bounded values by at most
    ``(maximum - minimum) / n``; for quantiles that bound is the usual approximation, not a
    proof. Clamping afterwards is post-processing and costs no privacy.
    """
    epsilon = catalogue.epsilon
    if not epsilon:
        return aggregates
    entries = {e.name: e for e in catalogue.entries}
    for a in aggregates:
        if a.suppressed:
            continue
        e = entries[a.metric]
        true_count = a.count
        a.count = max(noise.count(true_count, epsilon=epsilon), catalogue.k)
        if e.kind == COUNTER:
            noisy = noise.value(a.value, sensitivity=e.maximum - e.minimum, epsilon=epsilon)
            a.value = min(max(noisy, 0.0), e.maximum * a.count)
        else:
            sensitivity = (e.maximum - e.minimum) / true_count
            noisy = noise.value(a.value, sensitivity=sensitivity, epsilon=epsilon)
            a.value = min(max(noisy, e.minimum), e.maximum)
    return aggregates


# ------------------------------------------------------------------------------------- batches


def new_key() -> str:
    """An idempotency key of letters only: nothing in it can look like a phone or card number."""
    return "mb-" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(26))


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_batches(
    aggregates: list[Aggregate], *, period_start: datetime, period: int
) -> list[dict]:
    released = [a for a in aggregates if not a.suppressed]
    suppressed = len(aggregates) - len(released)
    items = [
        {"metric": a.metric, "dimensions": a.dimensions, "value": a.value, "count": a.count}
        for a in sorted(released, key=lambda a: a.key)
    ]
    batches = []
    for start in range(0, len(items), MAX_BATCH_ITEMS):
        batches.append(
            {
                "idempotency_key": new_key(),
                "period_start": format_time(period_start),
                "period_seconds": period,
                "items": items[start : start + MAX_BATCH_ITEMS],
                "suppressed": suppressed if start == 0 else 0,
            }
        )
    return batches


# ------------------------------------------------------------------------------------- spool


class Spool:
    """Batches waiting to be sent: one JSON file each, named by a growing sequence number.

    Written atomically (temp file, fsync, rename), so a crash leaves either the whole batch or
    nothing. Bounded: past ``max_batches`` the oldest are dropped, counted and logged.
    """

    def __init__(self, directory: str | Path, *, max_batches: int = 2000):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_batches = max_batches
        self.dropped = 0
        self.lock = threading.Lock()
        for leftover in self.dir.glob("*.tmp"):
            leftover.unlink(missing_ok=True)

    def _files(self) -> list[Path]:
        return sorted(self.dir.glob("*.json"))

    def __len__(self) -> int:
        return len(self._files())

    def append(self, batch: dict) -> Path:
        with self.lock:
            files = self._files()
            seq = int(files[-1].stem) + 1 if files else 1
            path = self.dir / f"{seq:012d}.json"
            tmp = path.with_suffix(".tmp")
            with open(tmp, "wb") as fh:
                fh.write(json.dumps(batch, sort_keys=True, separators=(",", ":")).encode())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            excess = len(files) + 1 - self.max_batches
            for old in files[: max(excess, 0)]:
                old.unlink(missing_ok=True)
                self.dropped += 1
                log.warning("metric spool full: dropped the oldest batch %s", old.name)
            return path

    def oldest(self) -> tuple[Path, bytes] | None:
        with self.lock:
            for path in self._files():
                try:
                    return path, path.read_bytes()
                except FileNotFoundError:
                    continue
            return None

    def remove(self, path: Path) -> None:
        with self.lock:
            path.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------- pipeline

Send = Callable[[str, bytes], tuple[int, dict]]


class MetricsPipeline:
    """Observations in; spooled, suppressed, optionally noised batches out, in order."""

    def __init__(
        self,
        *,
        spool_dir: str | Path,
        send: Send | None = None,
        period: int = 300,
        catalogue: Catalogue | None = None,
        max_spool: int = 2000,
        clock: Callable[[], float] = time.time,
        noise=None,
        rng: random.Random | None = None,
    ):
        if period not in PERIODS:
            raise ValueError(f"metrics period must be one of {PERIODS}")
        self.spool = Spool(spool_dir, max_batches=max_spool)
        self.send = send
        self.period = period
        self.catalogue = catalogue or Catalogue()
        self.clock = clock
        self.noise = noise
        self.rng = rng or random.Random()
        self.lock = threading.Lock()
        self.open: dict = defaultdict(dict)  # period start -> {(name, dims): Cell}
        self.observed = 0
        self.refused_observations = 0
        self.sent_batches = 0
        self.last_refusal: dict | None = None
        self.last_error = ""

    # -- catalogue

    def use_bundle(self, metrics_part: dict | None) -> None:
        catalogue = Catalogue.from_bundle(metrics_part)
        with self.lock:
            self.catalogue = catalogue

    # -- observing

    def observe(self, name: str, value, dimensions: dict | None = None, *, at: float | None = None):
        dimensions = dimensions or {}
        with self.lock:
            try:
                entries = self.catalogue.check(name, value, dimensions)
            except ObservationRefused:
                self.refused_observations += 1
                raise
            moment = self.clock() if at is None else at
            start = int(moment) - int(moment) % self.period
            cells = self.open[start]
            cell_key = (name, tuple(sorted(dimensions.items())))
            cell = cells.get(cell_key)
            if cell is None:
                if sum(len(c) for c in self.open.values()) >= MAX_OPEN_CELLS:
                    self.refused_observations += 1
                    raise ObservationRefused("too_many_cells", "too many distinct cells open")
                cell = cells[cell_key] = Cell()
            low, high = entries[0].minimum, entries[0].maximum
            clamped = min(max(float(value), low), high)
            cell.add(clamped, self.rng, any(e.kind == QUANTILE for e in entries))
            self.observed += 1

    # -- closing periods

    def close_periods(self, *, now: float | None = None, everything: bool = False) -> int:
        """Aggregate every ended period (or all, at shutdown) into spooled batches."""
        now = self.clock() if now is None else now
        with self.lock:
            due = sorted(s for s in self.open if everything or s + self.period <= now)
            closed = [(s, self.open.pop(s)) for s in due]
            catalogue = self.catalogue
        written = 0
        for start, cells in closed:
            aggregates = suppress(aggregate(cells, catalogue), catalogue)
            if catalogue.epsilon:
                if self.noise is None:
                    self.noise = LaplaceNoise()
                add_noise(aggregates, catalogue, self.noise)
            released = [a for a in aggregates if not a.suppressed]
            if not released:
                log.info("period %s: every cell below k=%s, nothing to send", start, catalogue.k)
                continue
            moment = datetime.fromtimestamp(start, UTC)
            for batch in build_batches(aggregates, period_start=moment, period=self.period):
                self.spool.append(batch)
                written += 1
        return written

    # -- sending

    def flush(self, *, limit: int = 100) -> int:
        """Send spooled batches oldest first; stop at the first that cannot be delivered."""
        if self.send is None:
            return 0
        sent = 0
        for _ in range(limit):
            head = self.spool.oldest()
            if head is None:
                break
            path, body = head
            if not self._period_ended(body):
                break  # a partial period spooled at shutdown waits for its end
            try:
                status, answer = self.send(METRICS_PATH, body)
            except SendError as exc:
                self.last_error = str(exc)
                log.warning("metrics not sent, kept in the spool: %s", exc)
                break
            if 200 <= status < 300:
                self.spool.remove(path)
                self.sent_batches += 1
                self.last_error = ""
                sent += 1
            elif status in (400, 409, 413, 422):
                # Refused for good: resending cannot help. Keep it inside the region for a look.
                rejected = self.spool.dir / "rejected"
                rejected.mkdir(exist_ok=True)
                os.replace(path, rejected / path.name)
                self.last_refusal = {
                    "status": status,
                    "codes": sorted({r.get("code", "") for r in answer.get("reasons", [])})
                    if isinstance(answer, dict)
                    else [],
                }
                log.warning("control plane refused metric batch %s: %s", path.name, answer)
            else:
                self.last_error = f"HTTP {status}"
                log.warning("metrics not accepted now (HTTP %s), kept in the spool", status)
                break
        return sent

    def _period_ended(self, body: bytes) -> bool:
        try:
            batch = json.loads(body)
            start = datetime.strptime(batch["period_start"], "%Y-%m-%dT%H:%M:%SZ")
            end = start.replace(tzinfo=UTC).timestamp() + int(batch["period_seconds"])
        except (ValueError, KeyError, TypeError):
            return True  # let the control plane say what is wrong with it
        return end <= self.clock()

    def tick(self) -> None:
        self.close_periods()
        self.flush()

    def status(self) -> dict:
        with self.lock:
            open_cells = sum(len(c) for c in self.open.values())
        warnings = []
        if self.spool.dropped:
            warnings.append(f"spool full: dropped {self.spool.dropped} oldest batches")
        return {
            "period_seconds": self.period,
            "k": self.catalogue.k,
            "epsilon": self.catalogue.epsilon,
            "catalogue_size": len(self.catalogue.entries),
            "observed": self.observed,
            "refused_observations": self.refused_observations,
            "open_cells": open_cells,
            "spooled_batches": len(self.spool),
            "dropped_batches": self.spool.dropped,
            "sent_batches": self.sent_batches,
            "last_error": self.last_error or None,
            "last_refusal": self.last_refusal,
            "warnings": warnings,
        }

    def run(self, stop: threading.Event, *, every: float = 5.0, bundle=None) -> None:
        """The agent's metrics loop: follow the bundle's catalogue, close periods, send."""
        while not stop.is_set():
            if bundle is not None:
                part = bundle()
                if part is not None:
                    self.use_bundle(part)
            try:
                self.tick()
            except OSError:
                log.exception("metrics spool error")
            stop.wait(every)
        # Stopping: the open period goes to the spool (partial) instead of being lost; the
        # control plane adds up two batches of one period like two agents' batches.
        self.close_periods(everything=True)


def http_sender(
    *, url: str, token: str, deadline_s: float = 10.0, max_answer_bytes: int = 64 * 1024
) -> Send:
    """A ``send`` over the agent's one HTTP client (``agents.transport``): an overall deadline,
    a capped answer, the spooled bytes sent as they are (a retry is byte-identical)."""
    from agents import __version__
    from agents.transport import TransportError, request

    def send(path: str, body: bytes) -> tuple[int, dict]:
        try:
            resp = request(
                "POST",
                url.rstrip("/") + path,
                headers={
                    "Authorization": f"Bearer {token}",
                    "User-Agent": f"sovereign-agent/{__version__}",
                    "Content-Type": "application/json",
                },
                body=body,
                deadline_s=deadline_s,
                max_bytes=max_answer_bytes,
            )
        except TransportError as exc:
            raise SendError(str(exc)) from exc
        try:
            answer = resp.json()
        except TransportError:
            answer = {}
        return resp.status, answer if isinstance(answer, dict) else {}

    return send


# ------------------------------------------------------------------------------------- demo


def synthetic_observations(pipeline: MetricsPipeline, *, rng: random.Random, burst: int = 40):
    """Plausible observations for every model version in the catalogue (``make run`` only)."""
    catalogue = pipeline.catalogue
    versions = ()
    for e in catalogue.entries:
        if "model_version" in e.dimensions:
            versions = e.dimensions["model_version"]
            break
    names = {e.observe for e in catalogue.entries}
    for index, version in enumerate(versions):
        dims = {"model_version": version}
        base = 40 + 25 * index
        for _ in range(burst):
            _try(pipeline, "inference.requests", 1, dims)
            _try(pipeline, "inference.latency_ms", rng.lognormvariate(math.log(base), 0.35), dims)
            if rng.random() < 0.02:
                _try(pipeline, "inference.errors", 1, dims)
        for _ in range(burst // 2):
            _try(pipeline, "model.accuracy", min(1.0, rng.gauss(0.93 - 0.02 * index, 0.03)), dims)
            _try(pipeline, "model.drift_psi", abs(rng.gauss(0.05 + 0.03 * index, 0.02)), dims)
    for _ in range(burst * 2):
        _try(pipeline, "ingestion.records_routed", 1, {})
    if "ingestion.records_refused" in names:
        for _ in range(burst // 2):
            reason = rng.choice(["no_rule", "home_elsewhere", "home_elsewhere", "no_metadata"])
            _try(pipeline, "ingestion.records_refused", 1, {"reason": reason})


def _try(pipeline, name, value, dims) -> None:
    try:
        pipeline.observe(name, value, dims)
    except ObservationRefused:
        pass
