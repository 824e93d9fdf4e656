"""The transfer policy engine.

A pure function, ``evaluate(facts, mechanisms, on)``, from the facts of a proposed flow of
personal data, the legal mechanisms on record and a date to a ``PolicyDecision``. Nothing in
this module touches Django or a database: the services translate rows into these dataclasses,
and tests and benchmarks build them by hand.

The order of legal bases follows the GDPR (and the UK GDPR and the Swiss FADP, which copy it):

1. same jurisdiction: no transfer at all;
2. adequacy (Art. 45), only when the decision's scope covers the importer;
3. binding corporate rules (Art. 47) covering both entities, the destination and the data;
4. appropriate safeguards by contract (Art. 46): EU SCCs of Decision 2021/914 with the module
   that matches the parties' roles and a current transfer impact assessment; for UK-origin
   data the UK IDTA or the UK Addendum to the EU SCCs instead;
5. an Art. 49 derogation, for one-off transfers only, always with a warning;
6. otherwise blocked.

The engine says whether a human approval is *possible*, and why; it never replaces one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta

# --------------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------------

CONTROLLER = "controller"
PROCESSOR = "processor"
ROLES = (CONTROLLER, PROCESSOR)

ONE_OFF = "one_off"
RECURRING = "recurring"
FREQUENCIES = (ONE_OFF, RECURRING)

INFO = "info"
WARNING = "warning"
BLOCKING = "blocking"
SEVERITIES = (INFO, WARNING, BLOCKING)

IN_FORCE = "in_force"
SUSPENDED = "suspended"
REVOKED = "revoked"
EXPIRED = "expired"
STATUSES = (IN_FORCE, SUSPENDED, REVOKED, EXPIRED)

BASIS_NONE_NEEDED = "none_needed"
BASIS_ADEQUACY = "adequacy"
BASIS_BCR = "bcr"
BASIS_SCC = "scc"
BASIS_IDTA = "idta"
BASIS_UK_ADDENDUM = "uk_addendum"
BASIS_DEROGATION = "derogation"
BASES = (
    BASIS_NONE_NEEDED,
    BASIS_ADEQUACY,
    BASIS_BCR,
    BASIS_SCC,
    BASIS_IDTA,
    BASIS_UK_ADDENDUM,
    BASIS_DEROGATION,
)

CERT_EU_US_DPF = "EU-US-DPF"
CERT_UK_US_DATA_BRIDGE = "UK-US-DATA-BRIDGE"
CERT_SWISS_US_DPF = "SWISS-US-DPF"
CERT_EU_US_PRIVACY_SHIELD = "EU-US-PRIVACY-SHIELD"
CERTIFICATIONS = {
    CERT_EU_US_DPF: "EU-US Data Privacy Framework",
    CERT_UK_US_DATA_BRIDGE: "UK Extension to the EU-US Data Privacy Framework (UK-US data bridge)",
    CERT_SWISS_US_DPF: "Swiss-US Data Privacy Framework",
    CERT_EU_US_PRIVACY_SHIELD: "EU-US Privacy Shield (historic, invalid since 2020-07-16)",
}

# Facts about an importer (or exporter) that adequacy scopes and derogations depend on.
HINT_COMMERCIAL = "commercial_organisation"
HINT_PUBLIC_AUTHORITY = "public_authority"
HINT_AUTOMATED = "automated_processing"
HINT_FSC_CREDIT = "fsc_credit_data"
SCOPE_HINTS = {
    HINT_COMMERCIAL: "Commercial (private-sector) organisation",
    HINT_PUBLIC_AUTHORITY: "Public authority acting in the exercise of its public powers",
    HINT_AUTOMATED: "Processes the transferred data by automated means",
    HINT_FSC_CREDIT: "Processes credit information under Korean FSC supervision",
}

# The jurisdiction whose transfer rules govern data leaving it -> the regime's short name.
REGIME_EU = "EU"
REGIME_UK = "UK"
REGIME_CH = "CH"
REGIMES = {"EEA": REGIME_EU, "GB": REGIME_UK, "CH": REGIME_CH}
REGIME_LAW = {
    REGIME_EU: "the GDPR",
    REGIME_UK: "the UK GDPR",
    REGIME_CH: "the Swiss FADP",
}

# Art. 49 derogations: key -> (reference, short label).
DEROGATIONS = {
    "explicit_consent": ("Art. 49(1)(a)", "explicit consent after being told of the risks"),
    "contract_with_data_subject": (
        "Art. 49(1)(b)",
        "necessary for a contract with the data subject",
    ),
    "contract_in_data_subject_interest": (
        "Art. 49(1)(c)",
        "necessary for a contract concluded in the data subject's interest",
    ),
    "important_public_interest": ("Art. 49(1)(d)", "necessary for important public interest"),
    "legal_claims": ("Art. 49(1)(e)", "necessary for legal claims"),
    "vital_interests": (
        "Art. 49(1)(f)",
        "vital interests of a person unable to give consent",
    ),
    "public_register": ("Art. 49(1)(g)", "made from a public register"),
    "compelling_legitimate_interests": (
        "Art. 49(1) second subparagraph",
        "compelling legitimate interests of the exporter",
    ),
}
# Art. 49(3): these grounds are not open to public authorities exercising public powers.
DEROGATIONS_CLOSED_TO_PUBLIC_AUTHORITIES = frozenset(
    {
        "explicit_consent",
        "contract_with_data_subject",
        "contract_in_data_subject_interest",
        "compelling_legitimate_interests",
    }
)

SCC_DECISION_2021 = "2021/914"
OLD_SCC_SETS_END = date(2022, 12, 27)
SCC_MODULES = {
    1: (CONTROLLER, CONTROLLER),
    2: (CONTROLLER, PROCESSOR),
    3: (PROCESSOR, PROCESSOR),
    4: (PROCESSOR, CONTROLLER),
}
MODULE_FOR_ROLES = {roles: module for module, roles in SCC_MODULES.items()}

TIA_NO_CONCERNS = "no_concerns"
TIA_SUPPLEMENTARY_MEASURES = "supplementary_measures"
TIA_DO_NOT_TRANSFER = "do_not_transfer"
TIA_OUTCOMES = (TIA_NO_CONCERNS, TIA_SUPPLEMENTARY_MEASURES, TIA_DO_NOT_TRANSFER)
# A TIA without an explicit "valid until" must be redone after this long.
TIA_DEFAULT_VALIDITY = timedelta(days=365)

KIND_ADEQUACY = "adequacy"
KIND_SCC = "scc"
KIND_BCR = "bcr"
KIND_IDTA = "idta"
KIND_UK_ADDENDUM = "uk_addendum"
MECHANISM_KINDS = (KIND_ADEQUACY, KIND_BCR, KIND_SCC, KIND_IDTA, KIND_UK_ADDENDUM)


def _frozen(value: Iterable[str] | None) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


def _set(obj, name, value):
    object.__setattr__(obj, name, value)


# --------------------------------------------------------------------------------------------
# Facts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartyFacts:
    """The exporter or the importer of a transfer."""

    name: str
    country: str
    role: str
    certifications: frozenset[str] = frozenset()
    hints: frozenset[str] = frozenset()
    id: int | None = None

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {self.role!r}")
        _set(self, "certifications", _frozen(self.certifications))
        _set(self, "hints", _frozen(self.hints))
        _set(self, "country", self.country.upper())

    @property
    def label(self) -> str:
        return f"{self.name} ({self.country})"


@dataclass(frozen=True, slots=True)
class TransferFacts:
    """What the engine needs to know about one proposed transfer."""

    source_country: str
    source_jurisdiction: str
    destination_country: str
    destination_jurisdiction: str
    exporter: PartyFacts
    importer: PartyFacts
    data_categories: tuple[str, ...]
    special_categories: frozenset[str] = frozenset()
    criminal_categories: frozenset[str] = frozenset()
    frequency: str = ONE_OFF
    derogation: str | None = None
    chosen_mechanism: str | None = None

    def __post_init__(self):
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be one of {FREQUENCIES}, not {self.frequency!r}")
        if self.derogation is not None and self.derogation not in DEROGATIONS:
            raise ValueError(f"unknown derogation {self.derogation!r}")
        _set(self, "data_categories", tuple(self.data_categories))
        _set(self, "special_categories", _frozen(self.special_categories))
        _set(self, "criminal_categories", _frozen(self.criminal_categories))


# --------------------------------------------------------------------------------------------
# Mechanisms
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartyRef:
    """A party as a mechanism names it: by id when both sides have one, else by name+country."""

    name: str
    country: str
    id: int | None = None

    def __post_init__(self):
        _set(self, "country", self.country.upper())

    def matches(self, party: PartyFacts) -> bool:
        if self.id is not None and party.id is not None:
            return self.id == party.id
        return (
            self.country == party.country
            and self.name.strip().casefold() == party.name.strip().casefold()
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Mechanism:
    """Common to every mechanism: a stable key, a validity window and a status.

    ``ends_on`` is the first day the mechanism no longer applies (revocation, suspension or
    expiry). A mechanism whose status is not ``in_force`` and that has no ``ends_on`` is treated
    as ended on every date.
    """

    kind = "mechanism"

    key: str
    name: str
    status: str = IN_FORCE
    valid_from: date
    ends_on: date | None = None
    review_on: date | None = None
    reference: str = ""

    def problem_on(self, on: date) -> str | None:
        """The finding code that stops this mechanism applying on ``on``, or None."""
        if on < self.valid_from:
            return "MECHANISM_NOT_YET_VALID"
        if self.status == IN_FORCE:
            if self.ends_on is not None and on >= self.ends_on:
                return "MECHANISM_EXPIRED"
            return None
        if self.ends_on is not None and on < self.ends_on:
            return None
        return _STATUS_CODES[self.status]

    def describe(self) -> dict:
        return mechanism_to_dict(self)


_STATUS_CODES = {
    SUSPENDED: "MECHANISM_SUSPENDED",
    REVOKED: "MECHANISM_REVOKED",
    EXPIRED: "MECHANISM_EXPIRED",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class AdequacyDecision(Mechanism):
    """Art. 45 decision (or the UK / Swiss equivalent) for one country or a whole jurisdiction."""

    kind = KIND_ADEQUACY

    from_jurisdiction: str
    to_country: str | None = None
    to_jurisdiction: str | None = None
    to_organisation: str | None = None
    scope: str = "full"
    partial: bool = False
    requires_certification: str | None = None
    requires_hints: frozenset[str] = frozenset()
    excluded_hints: frozenset[str] = frozenset()

    def __post_init__(self):
        _set(self, "requires_hints", _frozen(self.requires_hints))
        _set(self, "excluded_hints", _frozen(self.excluded_hints))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Contract(Mechanism):
    """A contract between two named parties, with a transfer impact (or risk) assessment."""

    exporter: PartyRef
    importer: PartyRef
    tia_on: date | None = None
    tia_outcome: str | None = None
    tia_valid_until: date | None = None
    categories: frozenset[str] = frozenset()

    def __post_init__(self):
        _set(self, "categories", _frozen(self.categories))
        if self.tia_outcome is not None and self.tia_outcome not in TIA_OUTCOMES:
            raise ValueError(f"unknown TIA outcome {self.tia_outcome!r}")

    def tia_expires_on(self) -> date | None:
        if self.tia_on is None:
            return None
        return self.tia_valid_until or (self.tia_on + TIA_DEFAULT_VALIDITY)


@dataclass(frozen=True, slots=True, kw_only=True)
class SCC(_Contract):
    """EU Standard Contractual Clauses (Decision 2021/914 unless ``decision`` says otherwise)."""

    kind = KIND_SCC

    module: int
    decision: str = SCC_DECISION_2021
    docking: bool = False
    annex_reference: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class IDTA(_Contract):
    """The UK International Data Transfer Agreement."""

    kind = KIND_IDTA


@dataclass(frozen=True, slots=True, kw_only=True)
class UKAddendum(_Contract):
    """The UK Addendum to the EU SCCs; ``module`` is the EU SCC module it is attached to."""

    kind = KIND_UK_ADDENDUM

    module: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BCR(Mechanism):
    """Binding corporate rules approved in ``jurisdiction`` (EEA, GB or CH)."""

    kind = KIND_BCR

    group: str
    bcr_type: str  # controller | processor
    jurisdiction: str
    lead_authority: str = ""
    members: tuple[PartyRef, ...] = ()
    categories: frozenset[str] = frozenset()  # empty: not limited to listed categories

    def __post_init__(self):
        if self.bcr_type not in ROLES:
            raise ValueError(f"bcr_type must be one of {ROLES}")
        _set(self, "members", tuple(self.members))
        _set(self, "categories", _frozen(self.categories))

    @property
    def countries(self) -> frozenset[str]:
        return frozenset(m.country for m in self.members)

    def has_member(self, party: PartyFacts) -> bool:
        return any(m.matches(party) for m in self.members)


def mechanism_to_dict(mechanism: Mechanism) -> dict:
    """A JSON-friendly description of a mechanism (dates as ISO strings, sets sorted)."""

    def plain(value):
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, frozenset):
            return sorted(value)
        if isinstance(value, PartyRef):
            return {"name": value.name, "country": value.country, "id": value.id}
        if isinstance(value, tuple):
            return [plain(v) for v in value]
        return value

    out = {"kind": mechanism.kind}
    for f in fields(mechanism):
        out[f.name] = plain(getattr(mechanism, f.name))
    return out


# --------------------------------------------------------------------------------------------
# Findings and the decision
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "severity": self.severity, "message": self.message}


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    transfer: bool
    allowed: bool
    basis: str | None
    mechanism: Mechanism | None
    findings: tuple[Finding, ...]
    regime: str | None = None
    on: date | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == BLOCKING)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == WARNING)

    def as_dict(self) -> dict:
        return {
            "transfer": self.transfer,
            "allowed": self.allowed,
            "basis": self.basis,
            "regime": self.regime,
            "on": self.on.isoformat() if self.on else None,
            "mechanism": self.mechanism.describe() if self.mechanism else None,
            "findings": [f.as_dict() for f in self.findings],
        }


# --------------------------------------------------------------------------------------------
# An index of mechanisms, so that evaluating many requests against one set is cheap
# --------------------------------------------------------------------------------------------


def _norm(name: str, country: str) -> tuple[str, str]:
    return (name.strip().casefold(), country.upper())


class MechanismSet:
    """Mechanisms grouped for quick lookup. ``evaluate`` builds one when given a plain sequence."""

    __slots__ = ("all", "by_key", "_adequacy", "_bcr", "_contracts_by_id", "_contracts_by_name")

    def __init__(self, mechanisms: Iterable[Mechanism]):
        self.all: tuple[Mechanism, ...] = tuple(mechanisms)
        self.by_key = {m.key: m for m in self.all}
        self._adequacy: dict[tuple[str, str], list[AdequacyDecision]] = {}
        self._bcr: dict[str, list[BCR]] = {}
        self._contracts_by_id: dict[tuple[str, int], list[_Contract]] = {}
        self._contracts_by_name: dict[tuple[str, tuple[str, str]], list[_Contract]] = {}
        for m in self.all:
            if isinstance(m, AdequacyDecision):
                if m.to_country:
                    target = "country:" + m.to_country.upper()
                elif m.to_jurisdiction:
                    target = "jurisdiction:" + m.to_jurisdiction
                else:
                    continue  # an international organisation: not matched by country
                self._adequacy.setdefault((m.from_jurisdiction, target), []).append(m)
            elif isinstance(m, BCR):
                self._bcr.setdefault(m.jurisdiction, []).append(m)
            elif isinstance(m, _Contract):
                if m.importer.id is not None:
                    self._contracts_by_id.setdefault((m.kind, m.importer.id), []).append(m)
                key = (m.kind, _norm(m.importer.name, m.importer.country))
                self._contracts_by_name.setdefault(key, []).append(m)

    def __len__(self):
        return len(self.all)

    def adequacy(self, origin: str, country: str, jurisdiction: str) -> list[AdequacyDecision]:
        return self._adequacy.get((origin, "country:" + country), []) + self._adequacy.get(
            (origin, "jurisdiction:" + jurisdiction), []
        )

    def bcrs(self, jurisdiction: str) -> list[BCR]:
        return self._bcr.get(jurisdiction, [])

    def contracts(self, kind: str, exporter: PartyFacts, importer: PartyFacts) -> list[_Contract]:
        found: list[_Contract] = []
        seen: set[str] = set()
        candidates = self._contracts_by_name.get((kind, _norm(importer.name, importer.country)), [])
        if importer.id is not None:
            candidates = self._contracts_by_id.get((kind, importer.id), []) + candidates
        for c in candidates:
            if c.key in seen:
                continue
            seen.add(c.key)
            if c.importer.matches(importer) and c.exporter.matches(exporter):
                found.append(c)
        return found


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------


def covers(granted: frozenset[str], key: str) -> bool:
    """True when ``key`` is one of ``granted`` or below one of them in the dotted taxonomy."""
    if key in granted:
        return True
    parts = key.split(".")
    return any(".".join(parts[:i]) in granted for i in range(1, len(parts)))


def _uncovered(granted: frozenset[str], categories: Sequence[str]) -> list[str]:
    return [c for c in categories if not covers(granted, c)]


def _window_message(m: Mechanism, code: str, on: date) -> str:
    label = f"{m.name} ({m.reference})" if m.reference else m.name
    if code == "MECHANISM_NOT_YET_VALID":
        return f"{label} only applies from {m.valid_from.isoformat()}, after {on.isoformat()}."
    verb = {
        "MECHANISM_SUSPENDED": "is suspended",
        "MECHANISM_REVOKED": "was revoked",
        "MECHANISM_EXPIRED": "has expired",
    }[code]
    when = f" on {m.ends_on.isoformat()}" if m.ends_on else ""
    return f"{label} {verb}{when}, so it cannot be relied on for {on.isoformat()}."


class _Evaluation:
    """Working state for one evaluation: the candidates that failed, and why."""

    __slots__ = ("facts", "ms", "on", "regime", "origin", "misses")

    def __init__(self, facts: TransferFacts, ms: MechanismSet, on: date, regime: str | None):
        self.facts = facts
        self.ms = ms
        self.on = on
        self.regime = regime
        self.origin = facts.source_jurisdiction
        self.misses: list[tuple[str, str]] = []

    def miss(self, code: str, message: str) -> None:
        self.misses.append((code, message))

    def window_ok(self, m: Mechanism) -> bool:
        code = m.problem_on(self.on)
        if code is None:
            return True
        self.miss(code, _window_message(m, code, self.on))
        return False

    def review_findings(self, m: Mechanism) -> list[Finding]:
        if m.review_on is not None and self.on > m.review_on:
            return [
                Finding(
                    "MECHANISM_REVIEW_OVERDUE",
                    WARNING,
                    f"{m.name} was due for review on {m.review_on.isoformat()}; "
                    "check that it still reflects the transfer.",
                )
            ]
        return []

    # -- step 2: adequacy ----------------------------------------------------------------
    def adequacy(self):
        f = self.facts
        imp = f.importer
        for d in self.ms.adequacy(self.origin, f.destination_country, f.destination_jurisdiction):
            if not self.window_ok(d):
                continue
            unmet = []
            if d.requires_certification and d.requires_certification not in imp.certifications:
                unmet.append(
                    f"{imp.label} is not recorded as certified under "
                    f"{CERTIFICATIONS.get(d.requires_certification, d.requires_certification)}"
                )
            missing = sorted(d.requires_hints - imp.hints)
            if missing:
                unmet.append(
                    f"{imp.label} is not recorded as: "
                    + "; ".join(SCOPE_HINTS.get(h, h).lower() for h in missing)
                )
            excluded = sorted(d.excluded_hints & imp.hints)
            if excluded:
                unmet.append(
                    f"{imp.label} falls under an exclusion: "
                    + "; ".join(SCOPE_HINTS.get(h, h).lower() for h in excluded)
                )
            if unmet:
                self.miss(
                    "ADEQUACY_SCOPE_NOT_MET",
                    f"{d.name} ({d.reference}) covers only {d.scope}, and "
                    + ", and ".join(unmet)
                    + ".",
                )
                continue
            found = [
                Finding(
                    "ADEQUACY_IN_FORCE",
                    INFO,
                    f"{d.name} ({d.reference}) is in force on {self.on.isoformat()}: "
                    f"{REGIME_LAW[self.regime]} treats the destination as adequate.",
                )
            ]
            if d.partial:
                found.append(
                    Finding(
                        "ADEQUACY_PARTIAL_SCOPE",
                        INFO,
                        f"The decision is limited to {d.scope}; the importer's recorded facts "
                        "meet it. Confirm they are current before approving.",
                    )
                )
            return BASIS_ADEQUACY, d, found + self.review_findings(d)
        return None

    # -- step 3: binding corporate rules --------------------------------------------------
    def bcr(self):
        f = self.facts
        for b in self.ms.bcrs(self.origin):
            exp_in = b.has_member(f.exporter)
            imp_in = b.has_member(f.importer)
            if not exp_in and not imp_in:
                continue  # these BCRs belong to another group
            if not self.window_ok(b):
                continue
            label = f"The {b.group} BCR ({b.reference})" if b.reference else f"The {b.group} BCR"
            if not (exp_in and imp_in):
                outsider = f.importer if exp_in else f.exporter
                self.miss(
                    "BCR_NOT_COVERING_ENTITY",
                    f"{label} binds group members only, and {outsider.label} is not one of them.",
                )
                continue
            if f.destination_country not in b.countries:
                self.miss(
                    "BCR_NOT_COVERING_DESTINATION",
                    f"{label} lists no member in {f.destination_country}, the destination.",
                )
                continue
            uncovered = _uncovered(b.categories, f.data_categories) if b.categories else []
            if uncovered:
                self.miss(
                    "BCR_NOT_COVERING_CATEGORY",
                    f"{label} does not cover these data categories: {', '.join(uncovered)}.",
                )
                continue
            if b.bcr_type != f.exporter.role:
                self.miss(
                    "BCR_TYPE_MISMATCH",
                    f"{label} are {b.bcr_type} BCRs, but {f.exporter.label} exports as "
                    f"{f.exporter.role}.",
                )
                continue
            found = [
                Finding(
                    "BCR_COVERS",
                    INFO,
                    f"{label}, approved by {b.lead_authority or 'the lead authority'}, binds both "
                    f"parties and covers {f.destination_country} and these data categories.",
                )
            ]
            return BASIS_BCR, b, found + self.review_findings(b)
        return None

    # -- step 4: contracts ------------------------------------------------------------------
    def _tia(self, c: _Contract, what: str) -> tuple[bool, list[Finding]]:
        assessment = "transfer impact assessment"
        if c.kind != KIND_SCC:
            assessment = "transfer risk assessment"
        if c.tia_on is None or c.tia_outcome is None:
            self.miss(
                "TIA_MISSING",
                f"{what} has no {assessment} on record; one is needed before relying on it "
                "(Schrems II, EDPB Recommendations 01/2020).",
            )
            return False, []
        expires = c.tia_expires_on()
        if self.on >= expires:
            self.miss(
                "TIA_EXPIRED",
                f"The {assessment} for {what}, made on {c.tia_on.isoformat()}, lapsed on "
                f"{expires.isoformat()}; re-assess the destination's law and practice.",
            )
            return False, []
        if c.tia_on > self.on:
            self.miss(
                "TIA_MISSING",
                f"The {assessment} for {what} is dated {c.tia_on.isoformat()}, after "
                f"{self.on.isoformat()}; no assessment existed on that date.",
            )
            return False, []
        if c.tia_outcome == TIA_DO_NOT_TRANSFER:
            self.miss(
                "TIA_NEGATIVE",
                f"The {assessment} for {what} ({c.tia_on.isoformat()}) concluded that the "
                "destination's law prevents the safeguards from working: do not transfer.",
            )
            return False, []
        found = [
            Finding(
                "TIA_CURRENT",
                INFO,
                f"The {assessment} of {c.tia_on.isoformat()} is current until "
                f"{expires.isoformat()}.",
            )
        ]
        if c.tia_outcome == TIA_SUPPLEMENTARY_MEASURES:
            found.append(
                Finding(
                    "TIA_SUPPLEMENTARY_MEASURES",
                    WARNING,
                    f"The {assessment} relies on supplementary measures (for example encryption "
                    "with keys kept in the origin); check they are in place.",
                )
            )
        return True, found

    def _module_ok(self, c: SCC | UKAddendum, what: str) -> bool:
        f = self.facts
        needed = MODULE_FOR_ROLES[(f.exporter.role, f.importer.role)]
        if c.module != needed:
            have = " to ".join(SCC_MODULES.get(c.module, ("?", "?")))
            want = " to ".join(SCC_MODULES[needed])
            self.miss(
                "SCC_MODULE_MISMATCH",
                f"{what} uses module {c.module} ({have}), but {f.exporter.label} acts as "
                f"{f.exporter.role} and {f.importer.label} as {f.importer.role}: module "
                f"{needed} ({want}) is needed.",
            )
            return False
        return True

    def _categories_ok(self, c: _Contract, what: str) -> bool:
        if not c.categories:
            return True
        uncovered = _uncovered(c.categories, self.facts.data_categories)
        if uncovered:
            self.miss(
                "CONTRACT_CATEGORIES_NOT_COVERED",
                f"The description of the transfer in {what} does not list: {', '.join(uncovered)}.",
            )
            return False
        return True

    def scc(self):
        f = self.facts
        for c in self.ms.contracts(KIND_SCC, f.exporter, f.importer):
            what = f"the SCCs {c.reference or c.name}".strip()
            if not self.window_ok(c):
                continue
            if c.decision != SCC_DECISION_2021 and self.on >= OLD_SCC_SETS_END:
                self.miss(
                    "SCC_OLD_SET",
                    f"{what} follow the old clauses ({c.decision}), which stopped being valid "
                    f"on {OLD_SCC_SETS_END.isoformat()}; sign the 2021/914 clauses.",
                )
                continue
            if not self._module_ok(c, what) or not self._categories_ok(c, what):
                continue
            ok, tia = self._tia(c, what)
            if not ok:
                continue
            found = [
                Finding(
                    "SCC_IN_FORCE",
                    INFO,
                    f"{what[0].upper() + what[1:]} (module {c.module}) between "
                    f"{f.exporter.label} and {f.importer.label} apply.",
                ),
                *tia,
            ]
            if self.regime == REGIME_CH:
                found.append(
                    Finding(
                        "SCC_SWISS_ADAPTATION",
                        INFO,
                        "For Swiss-origin data the EU SCCs need the FDPIC's adaptations "
                        "(the FADP as applicable law, the FDPIC as authority); check they are "
                        "part of the contract.",
                    )
                )
            return BASIS_SCC, c, found + self.review_findings(c)
        return None

    def _uk_contract(self, kind: str, basis: str):
        f = self.facts
        for c in self.ms.contracts(kind, f.exporter, f.importer):
            what = f"the {c.name}" + (f" ({c.reference})" if c.reference else "")
            if not self.window_ok(c):
                continue
            if isinstance(c, UKAddendum) and not self._module_ok(c, what):
                continue
            if not self._categories_ok(c, what):
                continue
            ok, tia = self._tia(c, what)
            if not ok:
                continue
            code = "IDTA_IN_FORCE" if kind == KIND_IDTA else "UK_ADDENDUM_IN_FORCE"
            found = [
                Finding(
                    code,
                    INFO,
                    f"{what[0].upper() + what[1:]} between {f.exporter.label} and "
                    f"{f.importer.label} applies under the UK GDPR.",
                ),
                *tia,
            ]
            return basis, c, found + self.review_findings(c)
        return None

    def idta(self):
        return self._uk_contract(KIND_IDTA, BASIS_IDTA)

    def uk_addendum(self):
        found = self._uk_contract(KIND_UK_ADDENDUM, BASIS_UK_ADDENDUM)
        if found is None:
            f = self.facts
            if self.ms.contracts(KIND_SCC, f.exporter, f.importer):
                self.miss(
                    "SCC_NEEDS_UK_ADDENDUM",
                    "EU SCCs alone do not cover UK-origin data; add the UK Addendum or sign "
                    "the IDTA.",
                )
        return found

    # -- step 5: derogations ---------------------------------------------------------------
    def derogation(self):
        f = self.facts
        if f.derogation is None:
            return None
        ref, label = DEROGATIONS[f.derogation]
        if f.frequency == RECURRING:
            self.miss(
                "DEROGATION_NOT_FOR_RECURRING",
                f"The derogation {ref} ({label}) is for occasional transfers only; a recurring "
                "transfer needs adequacy, BCRs or contractual safeguards.",
            )
            return None
        if (
            f.derogation in DEROGATIONS_CLOSED_TO_PUBLIC_AUTHORITIES
            and HINT_PUBLIC_AUTHORITY in f.exporter.hints
        ):
            self.miss(
                "DEROGATION_NOT_FOR_PUBLIC_AUTHORITY",
                f"{ref} is not open to a public authority exercising its public powers "
                f"(Art. 49(3)), and {f.exporter.label} is recorded as one.",
            )
            return None
        found = [
            Finding(
                "DEROGATION_USED",
                WARNING,
                f"No adequacy, BCR or contract covers this transfer; it relies on {ref} "
                f"({label}). Derogations are a last resort, read narrowly: record why the "
                "transfer is necessary.",
            )
        ]
        if f.derogation == "compelling_legitimate_interests":
            found.append(
                Finding(
                    "DEROGATION_COMPELLING_INTERESTS_CONDITIONS",
                    WARNING,
                    "This ground also requires a limited number of data subjects, documented "
                    "safeguards, and informing the supervisory authority and the data subjects.",
                )
            )
        return BASIS_DEROGATION, None, found


_STEPS = {
    REGIME_EU: ("adequacy", "bcr", "scc", "derogation"),
    REGIME_UK: ("adequacy", "bcr", "idta", "uk_addendum", "derogation"),
    REGIME_CH: ("adequacy", "bcr", "scc", "derogation"),
    None: ("bcr", "scc"),
}


def evaluate(
    facts: TransferFacts, mechanisms: Sequence[Mechanism] | MechanismSet, on: date
) -> PolicyDecision:
    """Decide whether ``facts`` describe a transfer, and whether a legal basis exists on ``on``."""
    src, dst = facts.source_jurisdiction, facts.destination_jurisdiction
    if src == dst:
        return PolicyDecision(
            transfer=False,
            allowed=True,
            basis=BASIS_NONE_NEEDED,
            mechanism=None,
            findings=(
                Finding(
                    "NOT_A_TRANSFER",
                    INFO,
                    f"{facts.source_country} and {facts.destination_country} are both in {src}: "
                    "the data does not leave its jurisdiction, so no transfer mechanism is needed.",
                ),
            ),
            regime=REGIMES.get(src),
            on=on,
        )

    ms = mechanisms if isinstance(mechanisms, MechanismSet) else MechanismSet(mechanisms)
    regime = REGIMES.get(src)
    head: list[Finding] = []
    if regime is None:
        head.append(
            Finding(
                "ORIGIN_REGIME_NOT_MODELLED",
                WARNING,
                f"The engine models EU, UK and Swiss transfer rules, not those of {src}; it "
                "only checks for BCRs or contracts between the parties. Ask counsel about "
                f"{src}'s own rules.",
            )
        )
    special = sorted(c for c in facts.data_categories if c in facts.special_categories)
    if special:
        head.append(
            Finding(
                "SPECIAL_CATEGORY_NEEDS_DPO",
                WARNING,
                "Special categories of data (Art. 9) are included: "
                f"{', '.join(special)}. The DPO must check the Art. 9 condition as well as "
                "the transfer basis.",
            )
        )
    criminal = sorted(c for c in facts.data_categories if c in facts.criminal_categories)
    if criminal:
        head.append(
            Finding(
                "CRIMINAL_DATA_NEEDS_DPO",
                WARNING,
                f"Criminal-offence data (Art. 10) is included: {', '.join(criminal)}. Only "
                "processing authorised by law may use it.",
            )
        )

    ev = _Evaluation(facts, ms, on, regime)
    result = None
    for step in _STEPS[regime]:
        result = getattr(ev, step)()
        if result is not None:
            break

    if result is None:
        findings = head + [Finding(code, BLOCKING, msg) for code, msg in ev.misses]
        if facts.derogation is None and regime is not None and facts.frequency == ONE_OFF:
            hint = " For a one-off transfer an Art. 49 derogation may be chosen as a last resort."
        else:
            hint = ""
        findings.append(
            Finding(
                "NO_BASIS",
                BLOCKING,
                f"No legal basis covers sending this data from {facts.source_country} to "
                f"{facts.destination_country} on {on.isoformat()}; the transfer cannot be "
                f"approved.{hint}",
            )
        )
        return PolicyDecision(
            transfer=True,
            allowed=False,
            basis=None,
            mechanism=None,
            findings=tuple(findings),
            regime=regime,
            on=on,
        )

    basis, mechanism, found = result
    findings = head + [Finding(code, INFO, msg) for code, msg in ev.misses] + found
    if facts.derogation is not None and basis != BASIS_DEROGATION:
        findings.append(
            Finding(
                "DEROGATION_NOT_NEEDED",
                INFO,
                f"A derogation was named, but {basis.replace('_', ' ')} already covers the "
                "transfer, and derogations only apply when nothing else does.",
            )
        )
    if facts.chosen_mechanism and (mechanism is None or mechanism.key != facts.chosen_mechanism):
        chosen = ms.by_key.get(facts.chosen_mechanism)
        name = chosen.name if chosen else facts.chosen_mechanism
        findings.append(
            Finding(
                "CHOSEN_MECHANISM_NOT_USED",
                INFO,
                f"The requester chose {name}, but the engine relies on "
                f"{mechanism.name if mechanism else 'a derogation'}, which comes first in the "
                "order of bases.",
            )
        )
    return PolicyDecision(
        transfer=True,
        allowed=True,
        basis=basis,
        mechanism=mechanism,
        findings=tuple(findings),
        regime=regime,
        on=on,
    )


__all__ = [
    "AdequacyDecision",
    "BCR",
    "Finding",
    "IDTA",
    "Mechanism",
    "MechanismSet",
    "PartyFacts",
    "PartyRef",
    "PolicyDecision",
    "SCC",
    "TransferFacts",
    "UKAddendum",
    "evaluate",
]
