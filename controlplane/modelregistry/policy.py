"""The cross-border check on model artifacts.

A pure function, ``evaluate_deployment(facts, transfers)``: may this model version run in that
region, given what its whole lineage was trained on and the approved transfers in effect?
Nothing here touches Django or a database; ``services.deployment_facts`` turns rows into these
dataclasses, and the tests build them by hand.

The reasoning, step by step down the base chain (the version itself first):

* a step trained on synthetic data, or on data that held no personal data, brings nothing
  personal into the weights;
* a ``federated`` step that held personal data shared only parameters across borders: the
  model may cross, but the approver must confirm that only parameters were shared;
* a ``regional`` or ``transfer`` step that held personal data from jurisdiction J may run in a
  region of J; in a region of another jurisdiction only if an active approved transfer covers
  the lineage's categories (from J) from a region in J to that region.

Findings reuse the transfer engine's ``Finding`` and severities, so both registers show
their checks the same way. The engine says whether an approval is *possible*; a DPO still
decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from controlplane.transfers.policy import BLOCKING, CONDITION, INFO, WARNING, Finding, covers

REGIONAL = "regional"
FEDERATED = "federated"
TRANSFER = "transfer"
SYNTHETIC = "synthetic"
TRAINING_MODES = (REGIONAL, FEDERATED, TRANSFER, SYNTHETIC)

# Findings an approver must tick explicitly before approving: they have severity "condition",
# as in the transfer engine, and go through the shared workflow (controlplane.decisions).
CONFIRMATION_CODES = frozenset({"FEDERATED_CONFIRM_PARAMETERS_ONLY"})


def _frozen(value) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


@dataclass(frozen=True, slots=True)
class LineageStep:
    """One version in a base chain, as far as the check is concerned."""

    label: str
    training_mode: str
    jurisdictions: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    contains_personal_data: bool = False
    participating_regions: tuple[str, ...] = ()

    def __post_init__(self):
        if self.training_mode not in TRAINING_MODES:
            raise ValueError(f"training_mode must be one of {TRAINING_MODES}")
        object.__setattr__(self, "jurisdictions", _frozen(self.jurisdictions))
        object.__setattr__(self, "categories", _frozen(self.categories))
        object.__setattr__(self, "participating_regions", tuple(self.participating_regions))

    @property
    def holds_personal_data(self) -> bool:
        return self.contains_personal_data and self.training_mode != SYNTHETIC


@dataclass(frozen=True, slots=True)
class DeploymentFacts:
    """A version's lineage (the version first, then its base, its base's base...) and a target."""

    chain: tuple[LineageStep, ...]
    target_region: str
    target_jurisdiction: str
    artifact_in_region: bool = True
    chain_broken: str = ""  # why the chain could not be followed to its end, if it could not

    def __post_init__(self):
        object.__setattr__(self, "chain", tuple(self.chain))
        if not self.chain:
            raise ValueError("a lineage has at least the version itself")

    @property
    def version(self) -> LineageStep:
        return self.chain[0]


@dataclass(frozen=True, slots=True)
class CoveringTransfer:
    """An approved transfer in effect from a region of ``source_jurisdiction`` to the target."""

    reference: str
    source_region: str
    source_jurisdiction: str
    destination_region: str
    categories: frozenset[str]

    def __post_init__(self):
        object.__setattr__(self, "categories", _frozen(self.categories))

    def covers(self, categories: Iterable[str]) -> bool:
        return all(covers(self.categories, key) for key in categories)


@dataclass(frozen=True, slots=True)
class DeploymentDecision:
    allowed: bool
    findings: tuple[Finding, ...]
    personal_jurisdictions: frozenset[str] = frozenset()

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == BLOCKING)

    @property
    def needs_confirmation(self) -> tuple[str, ...]:
        return tuple(sorted({f.code for f in self.findings if f.severity == CONDITION}))

    def as_dict(self) -> dict:
        return {
            "allowed": self.allowed,
            "personal_jurisdictions": sorted(self.personal_jurisdictions),
            "needs_confirmation": list(self.needs_confirmation),
            "findings": [f.as_dict() for f in self.findings],
        }


def _list(values: Iterable[str]) -> str:
    values = sorted(values)
    return ", ".join(values) if values else "none recorded"


def personal_data_by_jurisdiction(chain: Iterable[LineageStep]) -> dict[str, dict]:
    """``{J: {"categories": set, "steps": [labels]}}`` for steps that bind the weights to J.

    Federated steps are left out: only parameters crossed, which the approver confirms.
    """
    out: dict[str, dict] = {}
    for step in chain:
        if not step.holds_personal_data or step.training_mode == FEDERATED:
            continue
        for jurisdiction in step.jurisdictions:
            entry = out.setdefault(jurisdiction, {"categories": set(), "steps": []})
            entry["categories"].update(step.categories)
            entry["steps"].append(step.label)
    return out


NAMED_REFERENCES = 5


def _first_references(transfers) -> str:
    """The first few references and how many more: 10,000 transfers may cover one route, and
    the finding is stored on every deployment."""
    refs = sorted({t.reference for t in transfers})
    shown = ", ".join(refs[:NAMED_REFERENCES])
    more = len(refs) - NAMED_REFERENCES
    return f"{shown} and {more} more" if more > 0 else shown


def evaluate_deployment(
    facts: DeploymentFacts, transfers: Iterable[CoveringTransfer] = ()
) -> DeploymentDecision:
    """May ``facts.version`` run in ``facts.target_region``? Findings say why or why not."""
    target, target_j = facts.target_region, facts.target_jurisdiction
    version = facts.version
    transfers = tuple(transfers)
    findings: list[Finding] = []

    if facts.chain_broken:
        findings.append(
            Finding(
                "LINEAGE_INCOMPLETE",
                BLOCKING,
                f"The lineage of {version.label} cannot be followed to its end "
                f"({facts.chain_broken}); without it nobody can tell what data the weights hold.",
            )
        )

    for step in facts.chain:
        if step.holds_personal_data and not (step.jurisdictions and step.categories):
            findings.append(
                Finding(
                    "LINEAGE_INCOMPLETE",
                    BLOCKING,
                    f"{step.label} was trained on personal data but its record does not say from "
                    "which jurisdictions or of which categories; complete the lineage first.",
                )
            )

    personal = personal_data_by_jurisdiction(facts.chain)
    federated = [s for s in facts.chain if s.training_mode == FEDERATED and s.holds_personal_data]
    synthetic = [s for s in facts.chain if s.training_mode == SYNTHETIC]

    if not personal and not federated:
        basis = (
            "synthetic data"
            if synthetic and all(not s.contains_personal_data for s in facts.chain)
            else "data that held no personal data"
        )
        findings.append(
            Finding(
                "NO_PERSONAL_DATA_IN_LINEAGE",
                INFO,
                f"No step of {version.label}'s lineage ({len(facts.chain)} "
                f"version{'s' if len(facts.chain) != 1 else ''}) was trained on personal data "
                f"(only {basis}); it may run in any region.",
            )
        )

    for step in federated:
        regions = ", ".join(step.participating_regions) or "regions not recorded"
        findings.append(
            Finding(
                "FEDERATED_CONFIRM_PARAMETERS_ONLY",
                CONDITION,
                f"{step.label} is a federated model aggregated from updates in {regions} "
                f"(personal data from {_list(step.jurisdictions)}). It may run in {target} only "
                "if nothing but model parameters left those regions: confirm that no raw or "
                "per-record data was shared.",
            )
        )

    for jurisdiction in sorted(personal):
        entry = personal[jurisdiction]
        categories = sorted(entry["categories"])
        via = ", ".join(entry["steps"])
        if jurisdiction == target_j:
            findings.append(
                Finding(
                    "SAME_JURISDICTION",
                    INFO,
                    f"Personal data from {jurisdiction} in the lineage ({via}) stays in "
                    f"{jurisdiction}: {target} is in {target_j}.",
                )
            )
            continue
        covering = [
            t
            for t in transfers
            if t.source_jurisdiction == jurisdiction
            and t.destination_region == target
            and t.covers(categories)
        ]
        if covering:
            refs = _first_references(covering)
            findings.append(
                Finding(
                    "TRANSFER_COVERS",
                    INFO,
                    f"The lineage holds personal data from {jurisdiction} ({via}: "
                    f"{', '.join(categories)}); the approved transfer {refs} from "
                    f"{covering[0].source_region} to {target} covers these categories.",
                )
            )
            continue
        partial = [
            t
            for t in transfers
            if t.source_jurisdiction == jurisdiction and t.destination_region == target
        ]
        if partial:
            missing = sorted(
                {c for c in categories for t in partial if not covers(t.categories, c)}
            )
            detail = (
                f" The transfers on this route ({', '.join(sorted(t.reference for t in partial))}) "
                f"do not cover: {', '.join(missing)}."
            )
        else:
            detail = ""
        findings.append(
            Finding(
                "NO_COVERING_TRANSFER",
                BLOCKING,
                f"The lineage holds personal data from {jurisdiction} ({via}: "
                f"{', '.join(categories)}), and {target} is in {target_j}. Running it there "
                f"needs an approved transfer in effect from a region in {jurisdiction} to "
                f"{target} that covers these categories; there is none.{detail}",
            )
        )

    if not facts.artifact_in_region:
        findings.append(
            Finding(
                "ARTIFACT_NOT_IN_REGION",
                WARNING,
                f"No copy of {version.label}'s artifact is registered in {target}; the region's "
                "agents get no local artifact URI until one is.",
            )
        )

    allowed = not any(f.severity == BLOCKING for f in findings)
    return DeploymentDecision(
        allowed=allowed, findings=tuple(findings), personal_jurisdictions=frozenset(personal)
    )


__all__ = [
    "CONFIRMATION_CODES",
    "CoveringTransfer",
    "DeploymentDecision",
    "DeploymentFacts",
    "LineageStep",
    "TRAINING_MODES",
    "evaluate_deployment",
    "personal_data_by_jurisdiction",
]
