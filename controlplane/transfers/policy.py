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
5. an Art. 49 derogation, under the conditions of the ground chosen (EDPB Guidelines 2/2018),
   always with a warning;
6. otherwise blocked, with a sentence naming what was missing.

Before that, whether the flow is a transfer at all (EDPB Guidelines 05/2021, three criteria):
the exporter is subject to the regime (Art. 3, also Art. 3(2) for an exporter abroad); the
importer is a *different* controller or processor (the exporter's own staff abroad is not); the
importer is in a third country (its own country decides, not only the server's) or is an
international organisation.

A fact the request leaves open is never read as "no": where the law depends on it (the scope of
a partial adequacy decision, the Art. 9 condition, the Art. 49 conditions...) the verdict carries
a *condition* (severity ``condition``) that the approving DPO must confirm, and only a stated
fact that puts the transfer outside the rule refuses it.

The engine says whether a human approval is *possible*, and why; it never replaces one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta

# --------------------------------------------------------------------------------------------
# Vocabularies
# --------------------------------------------------------------------------------------------

CONTROLLER = "controller"
PROCESSOR = "processor"
ROLES = (CONTROLLER, PROCESSOR)

# How often the transfer happens. "Occasional" is not "one-off": EDPB Guidelines 2/2018 read
# Recital 111's "occasional" as happening now and then, outside the regular course of
# business; "recurring" is regular (within a stable relationship), which Art. 49(1)(a)-(c), (e)
# and the second subparagraph do not allow.
ONE_OFF = "one_off"
OCCASIONAL = "occasional"
RECURRING = "recurring"
FREQUENCIES = (ONE_OFF, OCCASIONAL, RECURRING)
NOT_REGULAR = frozenset({ONE_OFF, OCCASIONAL})

INFO = "info"
WARNING = "warning"
CONDITION = "condition"  # allowed only once the approving DPO confirms it
BLOCKING = "blocking"
SEVERITIES = (INFO, WARNING, CONDITION, BLOCKING)

IN_FORCE = "in_force"
SUSPENDED = "suspended"
REVOKED = "revoked"
EXPIRED = "expired"
INVALIDATED = "invalidated"  # annulled by a court (Privacy Shield: CJEU C-311/18)
STATUSES = (IN_FORCE, SUSPENDED, REVOKED, EXPIRED, INVALIDATED)

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
CERT_EU_US_DPF_HR = "EU-US-DPF-HR"
CERT_UK_US_DATA_BRIDGE = "UK-US-DATA-BRIDGE"
CERT_SWISS_US_DPF = "SWISS-US-DPF"
CERT_EU_US_PRIVACY_SHIELD = "EU-US-PRIVACY-SHIELD"
CERTIFICATIONS = {
    CERT_EU_US_DPF: "EU-US Data Privacy Framework",
    CERT_EU_US_DPF_HR: "EU-US Data Privacy Framework, HR data included in the certification",
    CERT_UK_US_DATA_BRIDGE: "UK Extension to the EU-US Data Privacy Framework (UK-US data bridge)",
    CERT_SWISS_US_DPF: "Swiss-US Data Privacy Framework",
    CERT_EU_US_PRIVACY_SHIELD: "EU-US Privacy Shield (historic, invalidated on 2020-07-16)",
}
# A DPF certification covers HR data only when the organisation certified for it.
HR_CERTIFICATION = {CERT_EU_US_DPF: CERT_EU_US_DPF_HR}

# Facts about an importer (or exporter) that adequacy scopes, the notion of transfer and the
# derogations depend on. A party answers each with yes, no, or not at all (None).
HINT_COMMERCIAL = "commercial_organisation"
HINT_APPI_OPERATOR = "appi_business_operator"
HINT_PUBLIC_AUTHORITY = "public_authority"
HINT_AUTOMATED = "automated_processing"
HINT_FSC_CREDIT = "fsc_credit_data"
HINT_LGPD = "subject_to_lgpd"
HINT_FAROESE_ACT = "subject_to_faroese_act"
HINT_PIPA = "subject_to_pipa"
HINT_INTERNATIONAL_ORGANISATION = "international_organisation"
HINT_GDPR_ART3_2 = "subject_to_gdpr_art3_2"
SCOPE_HINTS = {
    HINT_COMMERCIAL: "Subject to Canada's PIPEDA (personal information handled in commercial "
    "activities)",
    HINT_APPI_OPERATOR: "A personal information handling business operator under Japan's APPI "
    "(private sector, profit or not)",
    HINT_PUBLIC_AUTHORITY: "A public authority or body (acting in the exercise of public powers)",
    HINT_AUTOMATED: "Processes the transferred data by automated means (not manual files)",
    HINT_FSC_CREDIT: "Processes credit information under Korean FSC supervision",
    HINT_LGPD: "Subject to Brazil's LGPD",
    HINT_FAROESE_ACT: "Subject to the Faroese data protection act",
    HINT_PIPA: "Subject to Korea's PIPA",
    HINT_INTERNATIONAL_ORGANISATION: "An international organisation",
    HINT_GDPR_ART3_2: "Established outside the EEA but subject to the GDPR under Art. 3(2)",
}
# Every key a party's scope answers may use: the facts above and the certifications.
SCOPE_KEYS = frozenset(SCOPE_HINTS) | frozenset(CERTIFICATIONS)

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
# Grounds that need a transfer that is not regular (Recital 111; EDPB Guidelines 2/2018,
# 2.1 and 2.2.2): consent, the two contract grounds and legal claims. Important public interest
# (d), vital interests (f) and a public register (g) carry no such limit; the second
# subparagraph needs "not repetitive", checked with its own conditions.
DEROGATIONS_NOT_REGULAR = frozenset(
    {"explicit_consent", "contract_with_data_subject", "contract_in_data_subject_interest",
     "legal_claims", "compelling_legitimate_interests"}
)  # fmt: skip
# Conditions a derogation names besides frequency. Each is a fact the request may state
# (yes/no); unanswered, it becomes a condition the approving DPO confirms.
DEROGATION_CONDITIONS = {
    "informed_of_risks": "the data subject was informed of the possible risks of the transfer "
    "without an adequacy decision or safeguards (Art. 49(1)(a))",
    "few_data_subjects": "it concerns only a limited number of data subjects "
    "(Art. 49(1) second subparagraph)",
    "safeguards_assessed": "the exporter assessed all the circumstances and provided suitable "
    "safeguards (Art. 49(1) second subparagraph)",
    "authority_informed": "the supervisory authority is informed of the transfer "
    "(Art. 49(1) second subparagraph)",
    "subjects_informed": "the data subjects are informed of the transfer and of the compelling "
    "legitimate interests pursued (Art. 49(1) second subparagraph)",
}
DEROGATION_NEEDS = {
    "explicit_consent": ("informed_of_risks",),
    "compelling_legitimate_interests": (
        "few_data_subjects", "safeguards_assessed", "authority_informed", "subjects_informed",
    ),
}  # fmt: skip

# Art. 9(2) conditions for special categories, and what a request names for Art. 10 data.
ART9_CONDITIONS = {
    "a": "Art. 9(2)(a) explicit consent",
    "b": "Art. 9(2)(b) employment and social security law",
    "c": "Art. 9(2)(c) vital interests, person unable to consent",
    "d": "Art. 9(2)(d) foundation, association or not-for-profit body",
    "e": "Art. 9(2)(e) made manifestly public by the data subject",
    "f": "Art. 9(2)(f) legal claims or courts",
    "g": "Art. 9(2)(g) substantial public interest",
    "h": "Art. 9(2)(h) health or social care",
    "i": "Art. 9(2)(i) public health",
    "j": "Art. 9(2)(j) archiving, research or statistics",
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
# A TIA without an explicit "valid until" must be redone after this long. This is a HOUSE RULE,
# not the law: EDPB Recommendations 01/2020 (step 6) ask for re-evaluation "at appropriate
# intervals". The services pass the setting TRANSFERS_TIA_VALIDITY_DAYS.
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


def _art3_2_contradiction(party) -> str:
    return (
        f"{party.name} is established in {party.country}, in the EEA: Art. 3(2) covers only "
        "controllers and processors not established in the Union (contradictory origin facts)"
    )


# --------------------------------------------------------------------------------------------
# Facts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartyFacts:
    """The exporter or the importer of a transfer.

    ``certifications`` and ``hints`` are facts recorded as true. ``scope`` holds answers the
    request states for this transfer, ``{key: True|False}`` over ``SCOPE_KEYS``; they win over
    the recorded ones. A key answered nowhere is *unknown*, never "no".
    """

    name: str
    country: str
    role: str
    certifications: frozenset[str] = frozenset()
    hints: frozenset[str] = frozenset()
    id: int | None = None
    scope: Mapping[str, bool] = None  # type: ignore[assignment]
    jurisdiction: str = ""

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {self.role!r}")
        _set(self, "certifications", _frozen(self.certifications))
        _set(self, "hints", _frozen(self.hints))
        _set(self, "country", self.country.upper())
        scope = dict(self.scope or {})
        unknown = sorted(set(scope) - SCOPE_KEYS)
        if unknown:
            raise ValueError(f"unknown scope facts {unknown}")
        _set(self, "scope", scope)
        if self.jurisdiction == "EEA" and self.answer(HINT_GDPR_ART3_2) is True:
            raise ValueError(_art3_2_contradiction(self))

    def jurisdiction_in(self, facts: TransferFacts) -> str:
        """Its jurisdiction: as given, else that of the request's source or destination country
        when it sits there, else its own country's code (every other country is its own)."""
        if self.jurisdiction:
            return self.jurisdiction
        if self.country == facts.destination_country:
            return facts.destination_jurisdiction
        if self.country == facts.source_country:
            return facts.source_jurisdiction
        return self.country

    def answer(self, key: str) -> bool | None:
        """True, False, or None when nobody said."""
        if key in self.scope:
            return self.scope[key]
        if key in self.certifications or key in self.hints:
            return True
        return None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.country})"

    def same_entity(self, other: PartyFacts) -> bool:
        if self.id is not None and other.id is not None:
            return self.id == other.id
        return (self.country, self.name.strip().casefold()) == (
            other.country,
            other.name.strip().casefold(),
        )


@dataclass(frozen=True, slots=True)
class TIA:
    """A transfer impact (or risk) assessment stated on the request itself."""

    on: date
    outcome: str

    def __post_init__(self):
        if self.outcome not in TIA_OUTCOMES:
            raise ValueError(f"unknown TIA outcome {self.outcome!r}")


@dataclass(frozen=True, slots=True)
class OnwardLeg:
    """One onward transfer: the previous importer hands the data to ``importer``."""

    importer: PartyFacts


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
    # Facts a request can state (None: not stated).
    derogation_facts: Mapping[str, bool] = None  # type: ignore[assignment]
    art9_condition: str | None = None
    art10_authorisation: str = ""
    hr_data: bool | None = None
    tia: TIA | None = None
    onward: tuple[OnwardLeg, ...] = ()
    destination_name: str = ""

    def __post_init__(self):
        if self.frequency not in FREQUENCIES:
            raise ValueError(f"frequency must be one of {FREQUENCIES}, not {self.frequency!r}")
        if self.derogation is not None and self.derogation not in DEROGATIONS:
            raise ValueError(f"unknown derogation {self.derogation!r}")
        if self.art9_condition is not None and self.art9_condition not in ART9_CONDITIONS:
            raise ValueError(f"unknown Art. 9(2) condition {self.art9_condition!r}")
        derogation_facts = dict(self.derogation_facts or {})
        unknown = sorted(set(derogation_facts) - set(DEROGATION_CONDITIONS))
        if unknown:
            raise ValueError(f"unknown derogation conditions {unknown}")
        _set(self, "derogation_facts", derogation_facts)
        _set(self, "data_categories", tuple(self.data_categories))
        _set(self, "special_categories", _frozen(self.special_categories))
        _set(self, "criminal_categories", _frozen(self.criminal_categories))
        _set(self, "onward", tuple(self.onward))
        exporter = self.exporter
        if exporter.answer(HINT_GDPR_ART3_2) is True and exporter.jurisdiction_in(self) == "EEA":
            raise ValueError(_art3_2_contradiction(exporter))


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
    status_reason: str = ""

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
    INVALIDATED: "MECHANISM_INVALIDATED",
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

    def tia_expires_on(self, validity: timedelta = TIA_DEFAULT_VALIDITY) -> date | None:
        if self.tia_on is None:
            return None
        return self.tia_valid_until or (self.tia_on + validity)


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
    # The categories the approved BCRs cover. Empty means NONE STATED, never "everything".
    categories: frozenset[str] = frozenset()
    tia_on: date | None = None
    tia_outcome: str | None = None
    tia_valid_until: date | None = None
    # Lookup sets for has_member (built once; evaluations check membership often).
    _ids: frozenset = field(init=False, default=frozenset(), repr=False, compare=False)
    _names: frozenset = field(init=False, default=frozenset(), repr=False, compare=False)
    _names_without_id: frozenset = field(init=False, default=frozenset(), repr=False, compare=False)

    def __post_init__(self):
        if self.bcr_type not in ROLES:
            raise ValueError(f"bcr_type must be one of {ROLES}")
        _set(self, "members", tuple(self.members))
        _set(self, "categories", _frozen(self.categories))
        _set(self, "_ids", frozenset(m.id for m in self.members if m.id is not None))
        _set(self, "_names", frozenset(_norm(m.name, m.country) for m in self.members))
        _set(
            self,
            "_names_without_id",
            frozenset(_norm(m.name, m.country) for m in self.members if m.id is None),
        )

    @property
    def countries(self) -> frozenset[str]:
        return frozenset(m.country for m in self.members)

    def has_member(self, party: PartyFacts) -> bool:
        """As ``any(m.matches(party) for m in self.members)``, in constant time."""
        key = _norm(party.name, party.country)
        if party.id is None:
            return key in self._names
        return party.id in self._ids or key in self._names_without_id

    def tia_expires_on(self, validity: timedelta = TIA_DEFAULT_VALIDITY) -> date | None:
        if self.tia_on is None:
            return None
        return self.tia_valid_until or (self.tia_on + validity)


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
        if f.name.startswith("_"):
            continue
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

    @property
    def conditions(self) -> tuple[Finding, ...]:
        """What the approving DPO must confirm before this verdict holds."""
        return tuple(f for f in self.findings if f.severity == CONDITION)

    def as_dict(self) -> dict:
        return {
            "transfer": self.transfer,
            "allowed": self.allowed,
            "basis": self.basis,
            "regime": self.regime,
            "on": self.on.isoformat() if self.on else None,
            "mechanism": self.mechanism.describe() if self.mechanism else None,
            "conditions": [f.code for f in self.conditions],
            "findings": [f.as_dict() for f in self.findings],
        }


# --------------------------------------------------------------------------------------------
# An index of mechanisms, so that evaluating many requests against one set is cheap
# --------------------------------------------------------------------------------------------


def _norm(name: str, country: str) -> tuple[str, str]:
    return (name.strip().casefold(), country.upper())


class MechanismSet:
    """Mechanisms grouped for quick lookup. ``evaluate`` builds one when given a plain sequence."""

    __slots__ = (
        "all", "by_key", "_adequacy", "_bcr", "_contracts_by_id", "_contracts_by_name",
    )  # fmt: skip

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
                elif m.to_organisation:
                    target = "organisation:" + m.to_organisation.strip().casefold()
                else:
                    continue
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

    def adequacy_for_organisation(self, origin: str, name: str) -> list[AdequacyDecision]:
        return self._adequacy.get((origin, "organisation:" + name.strip().casefold()), [])

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


REGIME_ADJECTIVE = {REGIME_EU: "EU", REGIME_UK: "UK", REGIME_CH: "Swiss"}
REGIME_JURISDICTION = {REGIME_EU: "EEA", REGIME_UK: "GB", REGIME_CH: "CH"}
# Art. 49 as each regime numbers it (the FADP's exceptions are in its Art. 17).
REGIME_DEROGATION_LAW = {
    REGIME_EU: "GDPR",
    REGIME_UK: "UK GDPR",
    REGIME_CH: "GDPR wording; for Swiss data check FADP Art. 17",
}

# History the engine models by date.
# The UK applied EU law until the end of the withdrawal agreement's transition period.
UK_LEFT_EU_LAW = date(2021, 1, 1)
# EU-UK Trade and Cooperation Agreement, Art. FINPROV.10A: from 1 January to 30 June 2021
# transmission to the UK was not a transfer to a third country (the "bridge").
TCA_BRIDGE_ENDS = date(2021, 7, 1)
# The revised Swiss FADP (and its Annex 1 list) applies from this day.
SWISS_REVISED_FADP = date(2023, 9, 1)


def _window_message(m: Mechanism, code: str, on: date) -> str:
    label = f"{m.name} ({m.reference})" if m.reference else m.name
    if code == "MECHANISM_NOT_YET_VALID":
        return f"{label} only applies from {m.valid_from.isoformat()}, after {on.isoformat()}."
    verb = {
        "MECHANISM_SUSPENDED": "is suspended",
        "MECHANISM_REVOKED": "was revoked",
        "MECHANISM_EXPIRED": "has expired",
        "MECHANISM_INVALIDATED": "was invalidated",
    }[code]
    when = f" on {m.ends_on.isoformat()}" if m.ends_on else ""
    why = f" ({m.status_reason.rstrip('.')})" if m.status_reason else ""
    return f"{label} {verb}{when}{why}, so it cannot be relied on for {on.isoformat()}."


def _describe(key: str, answer: bool) -> str:
    if key in CERTIFICATIONS:
        what = f"certified under the {CERTIFICATIONS[key]}"
    else:
        what = SCOPE_HINTS.get(key, key)
        what = what[0].lower() + what[1:]
    return what if answer else f"not {what}"


class _Evaluation:
    """Working state for one evaluation: the candidates that failed, and why."""

    __slots__ = (
        "facts", "ms", "on", "regime", "origin", "misses", "tia_validity", "destination",
        "destination_jurisdiction", "destination_label", "organisation", "adequacy_seen",
        "contracts_seen",
    )  # fmt: skip

    def __init__(self, facts, ms, on, regime, origin, *, tia_validity, destination):
        self.facts = facts
        self.ms = ms
        self.on = on
        self.regime = regime
        self.origin = origin
        self.misses: list[tuple[str, str]] = []
        self.tia_validity = tia_validity
        self.destination, self.destination_jurisdiction, self.destination_label = destination
        self.organisation = facts.importer.answer(HINT_INTERNATIONAL_ORGANISATION) is True
        self.adequacy_seen = False
        self.contracts_seen = False

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
        if self.organisation:
            candidates = self.ms.adequacy_for_organisation(self.origin, imp.name)
        else:
            candidates = self.ms.adequacy(
                self.origin, self.destination, self.destination_jurisdiction
            )
        for d in candidates:
            cert = d.requires_certification
            # A certification scheme that has ended (Privacy Shield) is mentioned only where the
            # importer relied on it.
            if cert and d.status != IN_FORCE and imp.answer(cert) is not True:
                continue
            self.adequacy_seen = True
            if not self.window_ok(d):
                continue
            needed = [cert] if cert else []
            if cert in HR_CERTIFICATION and f.hr_data:
                needed.append(HR_CERTIFICATION[cert])  # HR data needs the HR certification
            needed += sorted(d.requires_hints)
            refused, unknown = [], []
            for key in needed:
                answer = imp.answer(key)
                if answer is False:
                    refused.append(_describe(key, False))
                elif answer is None:
                    unknown.append(_describe(key, True))
            for key in sorted(d.excluded_hints):
                answer = imp.answer(key)
                if answer is True:
                    refused.append(_describe(key, True))
                elif answer is None and not d.requires_hints:
                    unknown.append(_describe(key, False))
            if refused:
                self.miss(
                    "ADEQUACY_SCOPE_NOT_MET",
                    f"{d.name} ({d.reference}) covers only {d.scope}, and {imp.label} is stated "
                    f"to be {'; '.join(refused)}.",
                )
                continue
            law = REGIME_LAW[self.regime]
            found = [
                Finding(
                    "ADEQUACY_IN_FORCE",
                    INFO,
                    f"{d.name} ({d.reference}) is in force on {self.on.isoformat()}: "
                    f"{law} treats the destination as adequate"
                    + (" (Art. 45)." if self.regime != REGIME_CH else " (FADP Art. 16(1))."),
                )
            ]
            if unknown:
                found.append(
                    Finding(
                        "ADEQUACY_SCOPE_UNCONFIRMED",
                        CONDITION,
                        f"{d.name} covers only {d.scope}. The request does not say whether "
                        f"{imp.label} is {'; '.join(unknown)}. Confirm it before approving; if "
                        "it is not, the transfer needs another basis (BCRs or SCCs).",
                    )
                )
            elif d.partial:
                found.append(
                    Finding(
                        "ADEQUACY_PARTIAL_SCOPE",
                        INFO,
                        f"The decision is limited to {d.scope}; {imp.label} is declared to meet "
                        "it. This is the requester's claim, not verified by the control plane"
                        + (
                            ": check the organisation on the official DPF list."
                            if cert and cert != CERT_EU_US_PRIVACY_SHIELD
                            else "."
                        ),
                    )
                )
            return BASIS_ADEQUACY, d, found + self.review_findings(d)
        return None

    # -- TIA, for every Art. 46 tool (Schrems II) --------------------------------------------
    def _tia(self, c, what: str) -> tuple[bool, list[Finding]]:
        f = self.facts
        assessment = (
            "transfer risk assessment"
            if c.kind in (KIND_IDTA, KIND_UK_ADDENDUM)
            else ("transfer impact assessment")
        )
        stated = f.tia is not None and f.chosen_mechanism in (None, c.key)
        tia_on, outcome = (f.tia.on, f.tia.outcome) if stated else (c.tia_on, c.tia_outcome)
        valid_until = None if stated else c.tia_valid_until
        if tia_on is None or outcome is None:
            self.miss(
                "TIA_MISSING",
                f"{what} has no {assessment} on record; one is needed before relying on any "
                "Art. 46 tool, BCRs included (CJEU C-311/18 Schrems II; EDPB Recommendations "
                "01/2020).",
            )
            return False, []
        expires = valid_until or (tia_on + self.tia_validity)
        if self.on >= expires:
            if valid_until:
                why = f"lapsed on {expires.isoformat()}, the end of validity it states"
            else:
                why = (
                    f"lapsed on {expires.isoformat()} under this organisation's HOUSE RULE of "
                    f"re-assessing every {self.tia_validity.days} days (setting "
                    "TRANSFERS_TIA_VALIDITY_DAYS); the law itself asks for re-evaluation at "
                    "appropriate intervals (EDPB Recommendations 01/2020, step 6)"
                )
            self.miss(
                "TIA_EXPIRED",
                f"The {assessment} for {what}, made on {tia_on.isoformat()}, {why}; re-assess "
                "the destination's law and practice.",
            )
            return False, []
        if tia_on > self.on:
            self.miss(
                "TIA_MISSING",
                f"The {assessment} for {what} is dated {tia_on.isoformat()}, after "
                f"{self.on.isoformat()}; no assessment existed on that date.",
            )
            return False, []
        if outcome == TIA_DO_NOT_TRANSFER:
            self.miss(
                "TIA_NEGATIVE",
                f"The {assessment} for {what} ({tia_on.isoformat()}) concluded that the "
                "destination's law prevents the safeguards from working: do not transfer "
                "(EDPB Recommendations 01/2020, step 4).",
            )
            return False, []
        source = " (stated on the request)" if stated else ""
        found = [
            Finding(
                "TIA_CURRENT",
                INFO,
                f"The {assessment} of {tia_on.isoformat()}{source} is current until "
                f"{expires.isoformat()}.",
            )
        ]
        if outcome == TIA_SUPPLEMENTARY_MEASURES:
            found.append(
                Finding(
                    "TIA_SUPPLEMENTARY_MEASURES",
                    WARNING,
                    f"The {assessment} relies on supplementary measures (for example encryption "
                    "with keys kept in the origin); check they are in place.",
                )
            )
        return True, found

    # -- step 3: binding corporate rules --------------------------------------------------
    def bcr(self):
        f = self.facts
        for b in self.ms.bcrs(self.origin):
            exp_in = b.has_member(f.exporter)
            imp_in = b.has_member(f.importer)
            if not exp_in and not imp_in:
                continue  # these BCRs belong to another group
            self.contracts_seen = True
            if not self.window_ok(b):
                continue
            label = f"The {b.group} BCR ({b.reference})" if b.reference else f"The {b.group} BCR"
            if not (exp_in and imp_in):
                outsider = f.importer if exp_in else f.exporter
                self.miss(
                    "BCR_NOT_COVERING_ENTITY",
                    f"{label} binds group members only (Art. 47(1)(a)), and {outsider.label} "
                    "is not one of them.",
                )
                continue
            if self.destination not in b.countries:
                self.miss(
                    "BCR_NOT_COVERING_DESTINATION",
                    f"{label} lists no member in {self.destination}, the importer's country "
                    "(Art. 47(2)(b)).",
                )
                continue
            uncovered = _uncovered(b.categories, f.data_categories) if b.categories else []
            if uncovered:
                self.miss(
                    "BCR_NOT_COVERING_CATEGORY",
                    f"{label} does not cover these data categories: {', '.join(uncovered)} "
                    "(Art. 47(2)(b)).",
                )
                continue
            if b.bcr_type != f.exporter.role:
                self.miss(
                    "BCR_TYPE_MISMATCH",
                    f"{label} are {b.bcr_type} BCRs, but {f.exporter.label} exports as "
                    f"{f.exporter.role}.",
                )
                continue
            ok, tia = self._tia(b, label)
            if not ok:
                continue
            found = [
                Finding(
                    "BCR_COVERS",
                    INFO,
                    f"{label}, approved by {b.lead_authority or 'the lead authority'}, binds both "
                    f"parties and covers {self.destination}"
                    + (" and these data categories (Art. 47)." if b.categories else " (Art. 47)."),
                ),
                *tia,
            ]
            if not b.categories:
                found.append(
                    Finding(
                        "BCR_CATEGORIES_NOT_STATED",
                        CONDITION,
                        f"The record of {label} states no approved data categories, which means "
                        "none stated, not everything. Confirm that the approved BCRs cover: "
                        f"{', '.join(f.data_categories)}.",
                    )
                )
            return BASIS_BCR, b, found + self.review_findings(b)
        return None

    # -- step 4: contracts ------------------------------------------------------------------
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
                f"{needed} ({want}) is needed (Decision 2021/914, Section I Clause 1).",
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
                f"The description of the transfer in {what} (Annex I.B) does not list: "
                f"{', '.join(uncovered)}.",
            )
            return False
        return True

    def scc(self):
        f = self.facts
        for c in self.ms.contracts(KIND_SCC, f.exporter, f.importer):
            self.contracts_seen = True
            what = f"the SCCs {c.reference or c.name}".strip()
            if not self.window_ok(c):
                continue
            if c.decision != SCC_DECISION_2021 and self.on >= OLD_SCC_SETS_END:
                self.miss(
                    "SCC_OLD_SET",
                    f"{what} follow the old clauses ({c.decision}), which stopped being valid "
                    f"on {OLD_SCC_SETS_END.isoformat()} (Decision 2021/914, Art. 4); sign the "
                    "2021/914 clauses.",
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
                    f"{f.exporter.label} and {f.importer.label} apply (Art. 46(2)(c)).",
                ),
                *tia,
            ]
            if f.importer.answer(HINT_GDPR_ART3_2) is True:
                found.append(
                    Finding(
                        "SCC_IMPORTER_SUBJECT_TO_GDPR",
                        WARNING,
                        f"{f.importer.label} is subject to the GDPR under Art. 3(2). It still "
                        "receives a transfer (EDPB Guidelines 05/2021), but the 2021/914 SCCs "
                        "are not designed for an importer already subject to the GDPR (Recital 7 "
                        "of Decision 2021/914): use clauses made for that case.",
                    )
                )
            if self.regime == REGIME_CH:
                found.append(
                    Finding(
                        "SCC_SWISS_ADAPTATION",
                        INFO,
                        "For Swiss-origin data the EU SCCs need the FDPIC's adaptations "
                        "(the FADP as applicable law, the FDPIC as authority); check they are "
                        "part of the contract (FADP Art. 16(2)(d)).",
                    )
                )
            return BASIS_SCC, c, found + self.review_findings(c)
        return None

    def _uk_contract(self, kind: str, basis: str):
        f = self.facts
        for c in self.ms.contracts(kind, f.exporter, f.importer):
            self.contracts_seen = True
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
                    f"{f.importer.label} applies under the UK GDPR (Art. 46(2)(d), DPA 2018 "
                    "s.119A).",
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
                self.contracts_seen = True
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
        ref = f"{ref} {REGIME_DEROGATION_LAW.get(self.regime, 'GDPR')}"
        if f.derogation in DEROGATIONS_NOT_REGULAR and f.frequency == RECURRING:
            if f.derogation == "compelling_legitimate_interests":
                why = "a transfer that is not repetitive"
            else:
                why = "an occasional transfer (Recital 111)"
            self.miss(
                "DEROGATION_NOT_FOR_RECURRING",
                f"{ref} ({label}) needs {why}, and this one is regular: regular transfers "
                "within a stable relationship are not occasional (EDPB Guidelines 2/2018). "
                "It needs adequacy, BCRs or contractual safeguards.",
            )
            return None
        if (
            f.derogation in DEROGATIONS_CLOSED_TO_PUBLIC_AUTHORITIES
            and f.exporter.answer(HINT_PUBLIC_AUTHORITY) is True
        ):
            self.miss(
                "DEROGATION_NOT_FOR_PUBLIC_AUTHORITY",
                f"{ref} is not open to a public authority exercising its public powers "
                f"(Art. 49(3)), and {f.exporter.label} is recorded as one.",
            )
            return None
        failed, unknown = [], []
        for key in DEROGATION_NEEDS.get(f.derogation, ()):
            answer = f.derogation_facts.get(key)
            if answer is False:
                failed.append(DEROGATION_CONDITIONS[key])
            elif answer is None:
                unknown.append(DEROGATION_CONDITIONS[key])
        if failed:
            self.miss(
                "DEROGATION_CONDITION_NOT_MET",
                f"{ref} ({label}) requires that {'; and that '.join(failed)}; the request "
                "states otherwise.",
            )
            return None
        found = [
            Finding(
                "DEROGATION_USED",
                WARNING,
                f"No adequacy, BCR or contract covers this transfer; it relies on {ref} "
                f"({label}). Derogations are a last resort, read restrictively (EDPB Guidelines "
                "2/2018): record why the transfer is necessary.",
            )
        ]
        if unknown:
            found.append(
                Finding(
                    "DEROGATION_CONDITION_UNCONFIRMED",
                    CONDITION,
                    f"{ref} also requires that {'; and that '.join(unknown)}. The request does "
                    "not say; confirm before approving.",
                )
            )
        return BASIS_DEROGATION, None, found


_STEPS = {
    REGIME_EU: ("adequacy", "bcr", "scc", "derogation"),
    REGIME_UK: ("adequacy", "bcr", "idta", "uk_addendum", "derogation"),
    REGIME_CH: ("adequacy", "bcr", "scc", "derogation"),
    None: ("bcr", "scc"),
}
_CONTRACT_WORDS = {
    REGIME_EU: "BCR or SCCs",
    REGIME_UK: "BCR, IDTA or UK Addendum",
    REGIME_CH: "BCR or SCCs",
    None: "BCR or contract",
}


def _no_transfer(code: str, message: str, regime, on, extra=()) -> PolicyDecision:
    return PolicyDecision(
        transfer=False,
        allowed=True,
        basis=BASIS_NONE_NEEDED,
        mechanism=None,
        findings=(Finding(code, INFO, message), *extra),
        regime=regime,
        on=on,
    )


def _no_basis_message(ev: _Evaluation, facts: TransferFacts, src_label: str) -> str:
    regime = ev.regime
    parts = []
    if regime is not None:
        adj = REGIME_ADJECTIVE[regime]
        if not ev.adequacy_seen:
            parts.append(f"{ev.destination_label} has no {adj} adequacy decision")
        else:
            parts.append(f"the {adj} adequacy decision for {ev.destination_label} does not apply")
    words = _CONTRACT_WORDS[regime]
    if not ev.contracts_seen:
        parts.append(f"no {words} between these parties is on record")
    else:
        parts.append(f"the {words} on record between these parties do not apply")
    if regime is not None:
        if facts.derogation is None:
            if facts.frequency == RECURRING:
                parts.append(
                    "Art. 49 derogations need an occasional transfer, and this one is regular"
                )
            else:
                parts.append("no Art. 49 derogation was chosen (a last resort)")
        else:
            parts.append(f"the derogation {DEROGATIONS[facts.derogation][0]} does not apply")
    text = "; ".join(parts)
    return (
        f"No legal basis covers sending this data from {src_label} to {ev.destination_label} on "
        f"{ev.on.isoformat()}: {text}. The transfer cannot be approved."
    )


def evaluate(
    facts: TransferFacts,
    mechanisms: Sequence[Mechanism] | MechanismSet,
    on: date,
    *,
    tia_validity: timedelta = TIA_DEFAULT_VALIDITY,
) -> PolicyDecision:
    """Decide whether ``facts`` describe a transfer, and whether a legal basis exists on ``on``."""
    exporter, importer = facts.exporter, facts.importer
    src = facts.source_jurisdiction
    head: list[Finding] = []

    # Criterion 1: the exporter is subject to the regime; Art. 3(2) brings one from abroad in.
    origin = src
    if exporter.answer(HINT_GDPR_ART3_2) is True and src != "EEA":
        origin = "EEA"
        head.append(
            Finding(
                "EXPORTER_SUBJECT_TO_GDPR_ART3_2",
                INFO,
                f"{exporter.label} is established outside the EEA but subject to the GDPR under "
                "Art. 3(2) (declared by the requester): its transfers follow GDPR Chapter V "
                "(EDPB Guidelines 05/2021, criterion 1).",
            )
        )
        if src in REGIMES:
            head.append(
                Finding(
                    "ORIGIN_REGIME_ALSO_APPLIES",
                    WARNING,
                    f"{REGIME_LAW[REGIMES[src]]} governs data leaving {facts.source_country} "
                    "too; the engine checked the GDPR's rules only. Check the transfer under "
                    "both.",
                )
            )
    regime = REGIMES.get(origin)

    # Criterion 2: a different controller or processor receives the data.
    if exporter.same_entity(importer):
        return _no_transfer(
            "NOT_A_TRANSFER_SAME_ENTITY",
            f"{exporter.label} only gives access to its own staff or systems in "
            f"{facts.destination_country}: without a different controller or processor receiving "
            "the data there is no transfer (EDPB Guidelines 05/2021, criterion 2). The rest of "
            "the GDPR still applies, including security (Art. 32).",
            regime,
            on,
            head,
        )

    # Criterion 3: the importer's own country decides (or it is an international organisation).
    organisation = importer.answer(HINT_INTERNATIONAL_ORGANISATION) is True
    dest_country, dest_jurisdiction = importer.country, importer.jurisdiction_in(facts)
    if importer.country == facts.destination_country:
        dest_jurisdiction = facts.destination_jurisdiction
        dest_label = facts.destination_name or importer.country
    else:
        dest_label = importer.country
        head.append(
            Finding(
                "DESTINATION_IS_IMPORTER_COUNTRY",
                INFO,
                f"The data is hosted in {facts.destination_country}, but {importer.label} is "
                f"established in {importer.country}: handing it to that importer is a transfer "
                f"to {importer.country} (EDPB Guidelines 05/2021, criterion 3).",
            )
        )
    if organisation:
        dest_label = importer.name
    if (
        facts.destination_jurisdiction not in (origin, dest_jurisdiction)
        and importer.country != facts.destination_country
        and all(leg.importer.country != facts.destination_country for leg in facts.onward)
    ):
        head.append(
            Finding(
                "HOSTING_ABROAD_NOT_STATED",
                CONDITION,
                f"The data is hosted in {facts.destination_country}, outside both the origin and "
                f"{importer.label}'s country: whoever hosts it there receives it too. Confirm "
                "that hosting is covered, or state it as an onward transfer.",
            )
        )

    # History by date.
    if {origin, dest_jurisdiction} == {"EEA", "GB"} and not organisation:
        if on < UK_LEFT_EU_LAW:
            return _no_transfer(
                "NOT_A_TRANSFER_UK_UNDER_EU_LAW",
                "Until 31 December 2020 the UK applied EU data protection law (membership, then "
                "the Withdrawal Agreement's transition period, Art. 127): data between the UK "
                "and the EEA did not leave EU law.",
                regime,
                on,
                head,
            )
        if origin == "EEA" and on < TCA_BRIDGE_ENDS:
            return _no_transfer(
                "NOT_A_TRANSFER_TCA_BRIDGE",
                "From 1 January to 30 June 2021 the EU-UK Trade and Cooperation Agreement "
                "(Art. FINPROV.10A) kept transmission to the UK from counting as a transfer to "
                "a third country.",
                regime,
                on,
                head,
            )
    if regime == REGIME_CH and on < SWISS_REVISED_FADP:
        head.append(
            Finding(
                "SWISS_FORMER_FADP",
                WARNING,
                "Before 1 September 2023 the former FADP and the FDPIC's list of countries "
                "applied; the engine models the revised FADP and its Annex 1 only.",
            )
        )

    if origin == dest_jurisdiction and not organisation:
        return _no_transfer(
            "NOT_A_TRANSFER",
            f"{facts.source_country} and {dest_country} are both in {origin}: the data does not "
            "leave its jurisdiction, so no transfer mechanism is needed.",
            regime,
            on,
            head,
        )

    ms = mechanisms if isinstance(mechanisms, MechanismSet) else MechanismSet(mechanisms)
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
    if organisation:
        head.append(
            Finding(
                "IMPORTER_INTERNATIONAL_ORGANISATION",
                INFO,
                f"{importer.name} is an international organisation: sending it data is a transfer "
                "wherever it sits (Art. 44; EDPB Guidelines 05/2021, criterion 3).",
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
        if facts.art9_condition:
            head.append(
                Finding(
                    "ART9_CONDITION_STATED",
                    INFO,
                    f"The request relies on {ART9_CONDITIONS[facts.art9_condition]} for them "
                    "(declared by the requester, not verified).",
                )
            )
        else:
            head.append(
                Finding(
                    "ART9_CONDITION_NOT_STATED",
                    CONDITION,
                    "The request names no Art. 9(2) condition for the special categories; "
                    "confirm which one applies before approving.",
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
        if facts.art10_authorisation.strip():
            head.append(
                Finding(
                    "ART10_AUTHORISATION_STATED",
                    INFO,
                    f"The request names its Art. 10 authorisation: "
                    f"{facts.art10_authorisation.strip()} (declared by the requester, not "
                    "verified).",
                )
            )
        else:
            head.append(
                Finding(
                    "ART10_AUTHORISATION_NOT_STATED",
                    CONDITION,
                    "The request names no legal authorisation for the criminal-offence data "
                    "(Art. 10); confirm one exists before approving.",
                )
            )

    ev = _Evaluation(
        facts,
        ms,
        on,
        regime,
        origin,
        tia_validity=tia_validity,
        destination=(dest_country, dest_jurisdiction, dest_label),
    )
    result = None
    # An adequacy decision whose scope is unconfirmed is held, not returned: if BCRs or a
    # contract cover the transfer with nothing to confirm, the transfer is lawful whether or
    # not the importer is in the decision's scope (Art. 46(1): safeguards in the absence of an
    # adequacy decision), so the DPO need not confirm it. Derogations never trump it (Art. 49
    # applies only where neither Art. 45 nor Art. 46 does).
    held = None
    for step in _STEPS[regime]:
        if step == "derogation" and held is not None:
            break
        found = getattr(ev, step)()
        if found is None:
            continue
        needs_confirming = any(f.severity == CONDITION for f in found[2])
        if step == "adequacy" and needs_confirming:
            held = found
            continue
        if held is not None and needs_confirming:
            break  # both need a confirmation: adequacy comes first
        result = found
        break
    if result is None:
        result = held
    elif held is not None:
        decision = held[1]
        unconfirmed = next(f for f in held[2] if f.severity == CONDITION)
        ev.miss(
            "ADEQUACY_SCOPE_UNCONFIRMED",
            f"{decision.name} may not cover {importer.label} (the request does not say whether "
            "it is in the decision's scope), but another basis below covers the transfer "
            "either way, so there is nothing to confirm. "
            + unconfirmed.message.split(". ")[0]
            + ".",
        )

    src_label = facts.source_country
    if result is None:
        findings = head + [Finding(code, BLOCKING, msg) for code, msg in ev.misses]
        findings.append(Finding("NO_BASIS", BLOCKING, _no_basis_message(ev, facts, src_label)))
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
                "transfer, and derogations only apply when nothing else does (Art. 49(1)).",
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
    allowed = True
    previous = importer
    for number, leg in enumerate(facts.onward, start=1):
        leg_facts = TransferFacts(
            source_country=previous.country,
            source_jurisdiction=origin,
            destination_country=leg.importer.country,
            destination_jurisdiction=leg.importer.jurisdiction or leg.importer.country,
            exporter=previous,
            importer=leg.importer,
            data_categories=facts.data_categories,
            frequency=facts.frequency,
        )
        verdict = evaluate(leg_facts, ms, on, tia_validity=tia_validity)
        what = f"Onward transfer {number} ({previous.label} to {leg.importer.label})"
        if not verdict.allowed:
            allowed = False
            findings.append(
                Finding(
                    "ONWARD_TRANSFER_BLOCKED",
                    BLOCKING,
                    f"{what}: {verdict.findings[-1].message} Onward transfers must meet "
                    "Chapter V too (Art. 44; SCC Clause 8.7).",
                )
            )
        else:
            basis_label = verdict.basis.replace("_", " ") if verdict.basis else "none"
            findings.append(
                Finding(
                    "ONWARD_TRANSFER_COVERED",
                    INFO,
                    f"{what}: covered ({basis_label}"
                    + (f", {verdict.mechanism.name}" if verdict.mechanism else "")
                    + ").",
                )
            )
            findings.extend(
                Finding(c.code, CONDITION, f"{what}: {c.message}") for c in verdict.conditions
            )
        previous = leg.importer
    return PolicyDecision(
        transfer=True,
        allowed=allowed,
        basis=basis if allowed else None,
        mechanism=mechanism if allowed else None,
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
    "OnwardLeg",
    "PartyFacts",
    "PartyRef",
    "PolicyDecision",
    "SCC",
    "TIA",
    "TransferFacts",
    "UKAddendum",
    "evaluate",
]
