"""The metric catalogue as plain data: the seed definitions and each region's resolved view.

Pure: no ORM. ``models.MetricDefinition`` stores these rows; ``resolve()`` turns the stored
rows plus a region's model versions into the catalogue that travels in the region's bundle
(``"metrics": {"k", "epsilon", "catalogue"}``) and against which ingestion checks every item.
"""

from __future__ import annotations

from dataclasses import dataclass

COUNTER, GAUGE, QUANTILE = "counter", "gauge", "quantile"
KINDS = (COUNTER, GAUGE, QUANTILE)

# A dimension's allowed values are either listed or come from a source the control plane knows.
FROM_REGISTRY = "registry"  # "model:version" of the versions approved in the region

# Why the agent's router refuses a record (agents/router.py), the values of ``reason``.
REFUSAL_REASONS = (
    "no_bundle",
    "bundle_expired",
    "no_metadata",
    "invalid_metadata",
    "no_rule",
    "home_elsewhere",
    "no_store",
)

NAME_PATTERN = r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$"


@dataclass(frozen=True)
class Definition:
    name: str
    unit: str
    kind: str
    description: str
    dimensions: dict  # dimension -> FROM_REGISTRY or a list of values
    dimension_sets: tuple  # the combinations aggregated, e.g. ((), ("model_version",))
    minimum: float  # counters: bounds of one observation; gauges, quantiles: of the value
    maximum: float
    observe: str = ""  # the observation name that feeds it (defaults to ``name``)
    quantile: float | None = None

    @property
    def observed_as(self) -> str:
        return self.observe or self.name


MODEL_VERSION = {"model_version": FROM_REGISTRY}
BY_VERSION = ((), ("model_version",))

SEED = (
    Definition(
        "inference.requests",
        "requests",
        COUNTER,
        "Inference requests served.",
        MODEL_VERSION,
        BY_VERSION,
        0,
        1,
    ),
    Definition(
        "inference.errors",
        "errors",
        COUNTER,
        "Inference requests that failed.",
        MODEL_VERSION,
        BY_VERSION,
        0,
        1,
    ),
    Definition(
        "inference.latency_ms.p50",
        "ms",
        QUANTILE,
        "Median inference latency.",
        MODEL_VERSION,
        BY_VERSION,
        0,
        60_000,
        observe="inference.latency_ms",
        quantile=0.5,
    ),
    Definition(
        "inference.latency_ms.p95",
        "ms",
        QUANTILE,
        "95th percentile inference latency.",
        MODEL_VERSION,
        BY_VERSION,
        0,
        60_000,
        observe="inference.latency_ms",
        quantile=0.95,
    ),
    Definition(
        "model.accuracy",
        "ratio",
        GAUGE,
        "Accuracy on labelled feedback in the region.",
        MODEL_VERSION,
        (("model_version",),),
        0,
        1,
    ),
    Definition(
        "model.drift_psi",
        "PSI",
        GAUGE,
        "Population stability index of the inputs.",
        MODEL_VERSION,
        (("model_version",),),
        0,
        10,
    ),
    Definition(
        "ingestion.records_routed",
        "records",
        COUNTER,
        "Records the router accepted.",
        {},
        ((),),
        0,
        1,
    ),
    Definition(
        "ingestion.records_refused",
        "records",
        COUNTER,
        "Records the router refused.",
        {"reason": list(REFUSAL_REASONS)},
        ((), ("reason",)),
        0,
        1,
    ),
)


def model_version_value(model: str, version: str) -> str:
    return f"{model}:{version}"


def resolve(definitions, *, model_versions) -> list[dict]:
    """The catalogue as the bundle carries it: every dimension's values spelled out."""
    versions = sorted(model_versions)
    out = []
    for d in sorted(definitions, key=lambda d: d.name):
        dimensions = {
            dim: (versions if spec == FROM_REGISTRY else sorted(spec))
            for dim, spec in sorted(d.dimensions.items())
        }
        entry = {
            "name": d.name,
            "unit": d.unit,
            "kind": d.kind,
            "dimensions": dimensions,
            "dimension_sets": [list(s) for s in d.dimension_sets],
            "minimum": d.minimum,
            "maximum": d.maximum,
            "observe": d.observed_as,
        }
        if d.quantile is not None:
            entry["quantile"] = d.quantile
        out.append(entry)
    return out
