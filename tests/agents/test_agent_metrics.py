"""The agent's metrics: aggregation, k suppression (primary and secondary), OpenDP noise, the spool."""

from __future__ import annotations

import json
import random
import statistics

import pytest

from agents.metrics import (
    Catalogue,
    LaplaceNoise,
    MetricsPipeline,
    ObservationRefused,
    SendError,
    add_noise,
    aggregate,
    suppress,
)

VERSIONS = ["fraud:1.0", "fraud:1.1", "fraud:2.0"]


def catalogue(k=10, epsilon=None) -> Catalogue:
    by_version = {"model_version": VERSIONS}
    return Catalogue.from_bundle(
        {
            "k": k,
            "epsilon": epsilon,
            "catalogue": [
                {
                    "name": "inference.requests",
                    "kind": "counter",
                    "dimensions": by_version,
                    "dimension_sets": [[], ["model_version"]],
                    "minimum": 0,
                    "maximum": 1,
                    "observe": "inference.requests",
                },
                {
                    "name": "inference.latency_ms.p50",
                    "kind": "quantile",
                    "dimensions": by_version,
                    "dimension_sets": [[], ["model_version"]],
                    "minimum": 0,
                    "maximum": 60000,
                    "observe": "inference.latency_ms",
                    "quantile": 0.5,
                },
                {
                    "name": "model.accuracy",
                    "kind": "gauge",
                    "dimensions": by_version,
                    "dimension_sets": [["model_version"]],
                    "minimum": 0,
                    "maximum": 1,
                    "observe": "model.accuracy",
                },
                {
                    "name": "ingestion.records_refused",
                    "kind": "counter",
                    "dimensions": {"reason": ["no_rule", "home_elsewhere", "no_metadata"]},
                    "dimension_sets": [[], ["reason"]],
                    "minimum": 0,
                    "maximum": 1,
                    "observe": "ingestion.records_refused",
                },
            ],
        }
    )


class NoSend:
    def __call__(self, path, body):
        raise AssertionError("nothing should be sent")


@pytest.fixture
def pipeline(tmp_path):
    now = [1_800_000_000.0]  # aligned to 300 s
    p = MetricsPipeline(
        spool_dir=tmp_path / "spool", period=300, catalogue=catalogue(), clock=lambda: now[0]
    )
    p.now = now
    return p


def observe_requests(p, counts: dict):
    for version, n in counts.items():
        for _ in range(n):
            p.observe("inference.requests", 1, {"model_version": version})


def cells_of(p):
    (cells,) = p.open.values()
    return cells


def released(aggregates, metric="inference.requests"):
    return {
        a.dimensions.get("model_version", "total"): a.count
        for a in aggregates
        if a.metric == metric and not a.suppressed
    }


# ------------------------------------------------------------------------------ suppression


def test_cells_below_k_are_suppressed(pipeline):
    observe_requests(pipeline, {"fraud:1.0": 30, "fraud:1.1": 25, "fraud:2.0": 30})
    out = suppress(aggregate(cells_of(pipeline), pipeline.catalogue), pipeline.catalogue)
    assert released(out) == {"total": 85, "fraud:1.0": 30, "fraud:1.1": 25, "fraud:2.0": 30}

    pipeline.open.clear()
    observe_requests(pipeline, {"fraud:1.0": 30, "fraud:1.1": 25, "fraud:2.0": 4})
    out = suppress(aggregate(cells_of(pipeline), pipeline.catalogue), pipeline.catalogue)
    shown = released(out)
    assert "fraud:2.0" not in shown  # primary: 4 < k


def test_secondary_suppression_hides_a_sibling_so_the_total_reveals_nothing(pipeline):
    observe_requests(pipeline, {"fraud:1.0": 30, "fraud:1.1": 25, "fraud:2.0": 4})
    out = suppress(aggregate(cells_of(pipeline), pipeline.catalogue), pipeline.catalogue)
    shown = released(out)
    # Without secondary suppression total - 1.0 - 1.1 = 4 would give 2.0 away.
    assert shown == {"total": 59, "fraud:1.0": 30}
    hidden = [a for a in out if a.metric == "inference.requests" and a.suppressed]
    assert {a.dimensions["model_version"] for a in hidden} == {"fraud:1.1", "fraud:2.0"}


def test_secondary_suppression_falls_back_to_the_total(pipeline):
    observe_requests(pipeline, {"fraud:1.0": 40, "fraud:2.0": 3})
    out = suppress(aggregate(cells_of(pipeline), pipeline.catalogue), pipeline.catalogue)
    # Two children, one hidden: hiding the other leaves the total alone, which says nothing.
    assert released(out) == {"total": 43}


def test_no_released_cell_can_be_recovered_from_totals(pipeline):
    rng = random.Random(7)
    for _ in range(200):
        pipeline.open.clear()
        counts = {v: rng.choice([0, 1, 3, 9, 10, 15, 40]) for v in VERSIONS}
        counts = {v: n for v, n in counts.items() if n}
        if not counts:
            continue
        observe_requests(pipeline, counts)
        out = suppress(aggregate(cells_of(pipeline), pipeline.catalogue), pipeline.catalogue)
        shown = released(out)
        hidden = [v for v in counts if v not in shown]
        assert all(counts[v] >= 10 for v in shown if v != "total")
        if "total" in shown:
            assert len(hidden) != 1, (counts, shown)


def test_a_fully_suppressed_period_sends_nothing(pipeline):
    observe_requests(pipeline, {"fraud:1.0": 5})
    pipeline.now[0] += 300
    assert pipeline.close_periods() == 0
    assert len(pipeline.spool) == 0


# ------------------------------------------------------------------------------ aggregation


def test_gauges_average_and_quantiles_come_from_the_observations(pipeline):
    for value in range(1, 101):
        pipeline.observe("inference.latency_ms", value, {"model_version": "fraud:1.0"})
        pipeline.observe("model.accuracy", 0.9, {"model_version": "fraud:1.0"})
    out = aggregate(cells_of(pipeline), pipeline.catalogue)
    p50 = next(a for a in out if a.metric == "inference.latency_ms.p50" and a.dimensions)
    accuracy = next(a for a in out if a.metric == "model.accuracy")
    assert p50.value == pytest.approx(50.5)
    assert p50.count == 100
    assert accuracy.value == pytest.approx(0.9)


@pytest.mark.parametrize(
    "name,value,dims,code",
    [
        ("inference.requests", 1, {"model_version": "ghost:1"}, "unknown_value"),
        ("inference.requests", 1, {}, "invalid_dimensions"),
        ("inference.requests", float("nan"), {"model_version": "fraud:1.0"}, "invalid_value"),
        ("inference.requests", "1", {"model_version": "fraud:1.0"}, "invalid_value"),
        ("user.email", 1, {}, "unknown_metric"),
    ],
)
def test_observations_outside_the_catalogue_are_refused(pipeline, name, value, dims, code):
    with pytest.raises(ObservationRefused) as refused:
        pipeline.observe(name, value, dims)
    assert refused.value.code == code
    assert pipeline.status()["refused_observations"] == 1


# ------------------------------------------------------------------------------ noise


def test_laplace_noise_has_the_expected_mean_and_variance():
    noise = LaplaceNoise()
    epsilon, sensitivity, n = 0.5, 1.0, 20_000
    scale = sensitivity / epsilon
    draws = [noise.value(100.0, sensitivity=sensitivity, epsilon=epsilon) - 100.0 for _ in range(n)]
    mean, variance = statistics.fmean(draws), statistics.pvariance(draws)
    # Laplace(b): mean 0, variance 2b^2. Standard errors: sqrt(2b^2/n) for the mean and
    # sqrt(20 b^4 / n) for the variance (fourth moment 24 b^4); allow six of each.
    assert abs(mean) < 6 * (2 * scale**2 / n) ** 0.5
    assert abs(variance - 2 * scale**2) < 6 * (20 * scale**4 / n) ** 0.5
    assert len(set(draws)) > n * 0.9  # continuous-looking, not a constant offset
    counts = [noise.count(50, epsilon=epsilon) - 50 for _ in range(n)]
    assert abs(statistics.fmean(counts)) < 6 * (2 * scale**2 / n) ** 0.5
    assert all(isinstance(c, int) for c in counts[:10])


def test_noise_respects_the_bundle_epsilon_and_the_ranges(pipeline):
    pipeline.catalogue = catalogue(epsilon=0.1)
    observe_requests(pipeline, {"fraud:1.0": 30, "fraud:1.1": 30})
    for _ in range(20):
        pipeline.observe("model.accuracy", 0.99, {"model_version": "fraud:1.0"})
    out = suppress(aggregate(cells_of(pipeline), pipeline.catalogue), pipeline.catalogue)
    before = {a.key: (a.count, a.value) for a in out}
    add_noise(out, pipeline.catalogue, LaplaceNoise())
    assert any((a.count, a.value) != before[a.key] for a in out)
    for a in out:
        assert a.count >= 10
        if a.metric == "model.accuracy":
            assert 0 <= a.value <= 1


def test_without_epsilon_nothing_is_noised(pipeline):
    observe_requests(pipeline, {"fraud:1.0": 30})
    out = aggregate(cells_of(pipeline), pipeline.catalogue)
    assert add_noise(out, pipeline.catalogue, noise=None) == out
    assert released(suppress(out, pipeline.catalogue))["fraud:1.0"] == 30


# ------------------------------------------------------------------------------ spool and sending


class ControlPlane:
    """Stands in for the HTTP transport: down, or storing by idempotency key like the server."""

    def __init__(self):
        self.up = True
        self.stored: dict = {}
        self.calls = 0

    def __call__(self, path, body: bytes):
        self.calls += 1
        if not self.up:
            raise SendError("connection refused")
        batch = json.loads(body)
        replay = batch["idempotency_key"] in self.stored
        self.stored.setdefault(batch["idempotency_key"], batch)
        return (200 if replay else 201), {"stored": len(batch["items"])}


def fill_period(p, start_offset=0):
    observe_requests(p, {"fraud:1.0": 20 + start_offset, "fraud:1.1": 30})
    p.now[0] += 300
    return p.close_periods()


def test_outage_keeps_batches_in_order_and_sends_them_later(tmp_path):
    now = [1_800_000_000.0]
    plane = ControlPlane()
    p = MetricsPipeline(
        spool_dir=tmp_path / "s",
        send=plane,
        period=300,
        catalogue=catalogue(),
        clock=lambda: now[0],
    )
    p.now = now
    plane.up = False
    for i in range(3):
        fill_period(p, i)
        p.flush()
    assert len(p.spool) == 3 and not plane.stored
    assert p.status()["last_error"] == "connection refused"
    plane.up = True
    assert p.flush() == 3
    starts = [b["period_start"] for b in plane.stored.values()]
    assert starts == sorted(starts) and len(set(starts)) == 3  # in order, each once
    assert len(p.spool) == 0


def test_the_spool_survives_a_restart_and_a_retry_stores_once(tmp_path):
    now = [1_800_000_000.0]
    plane = ControlPlane()
    first = MetricsPipeline(
        spool_dir=tmp_path / "s", send=None, period=300, catalogue=catalogue(), clock=lambda: now[0]
    )
    first.now = now
    fill_period(first)
    fill_period(first, 1)
    (tmp_path / "s" / "000000000099.tmp").write_text("half-written")  # a crash mid-write
    del first  # the agent stops

    # The first batch reached the control plane but the answer was lost before the restart.
    spool_files = sorted((tmp_path / "s").glob("*.json"))
    plane(None, spool_files[0].read_bytes())

    second = MetricsPipeline(
        spool_dir=tmp_path / "s",
        send=plane,
        period=300,
        catalogue=catalogue(),
        clock=lambda: now[0],
    )
    assert not list((tmp_path / "s").glob("*.tmp"))
    assert len(second.spool) == 2
    assert second.flush() == 2
    assert len(plane.stored) == 2  # the resent first batch was recognised by its key
    assert len(second.spool) == 0


def test_the_spool_is_bounded_and_says_so(tmp_path):
    now = [1_800_000_000.0]
    p = MetricsPipeline(
        spool_dir=tmp_path / "s",
        period=300,
        catalogue=catalogue(),
        clock=lambda: now[0],
        max_spool=2,
    )
    p.now = now
    kept = []
    for i in range(4):
        fill_period(p, i)
        kept = sorted((tmp_path / "s").glob("*.json"))
    assert len(kept) == 2
    status = p.status()
    assert status["dropped_batches"] == 2
    assert "dropped 2 oldest" in status["warnings"][0]
    newest = json.loads(kept[-1].read_bytes())
    assert any(item["count"] == 23 for item in newest["items"])  # the last period survived


def test_a_refused_batch_is_set_aside_and_does_not_block_the_rest(tmp_path):
    now = [1_800_000_000.0]
    answers = iter([(400, {"reasons": [{"code": "below_k"}]}), (201, {}), (201, {})])
    p = MetricsPipeline(
        spool_dir=tmp_path / "s",
        send=lambda path, body: next(answers),
        period=300,
        catalogue=catalogue(),
        clock=lambda: now[0],
    )
    p.now = now
    fill_period(p)
    fill_period(p, 1)
    assert p.flush() == 1
    assert len(p.spool) == 0
    assert len(list((tmp_path / "s" / "rejected").glob("*.json"))) == 1
    assert p.status()["last_refusal"] == {"status": 400, "codes": ["below_k"]}


def test_server_errors_keep_the_batch(tmp_path):
    now = [1_800_000_000.0]
    p = MetricsPipeline(
        spool_dir=tmp_path / "s",
        send=lambda path, body: (503, {}),
        period=300,
        catalogue=catalogue(),
        clock=lambda: now[0],
    )
    p.now = now
    fill_period(p)
    assert p.flush() == 0
    assert len(p.spool) == 1
