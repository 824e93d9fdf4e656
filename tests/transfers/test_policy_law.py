"""Issue 17: the engine against GDPR Chapter V, EDPB Guidelines 05/2021 and 2/2018, EDPB
Recommendations 01/2020, the UK adequacy regulations and Swiss DPO Annex 1.

One table, one row per rule; each row cites its source in a comment. Expected findings are
{code: severity}; ``absent`` lists codes that must not appear; ``words`` lists phrases the
findings' text must contain (reasons a DPO accepts name the law, not only a code).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest

from controlplane.transfers import policy as p
from controlplane.transfers import reference_data as ref

ON = date(2026, 12, 1)
EMAIL = "user.contact.email"
HEALTH = "user.health_and_medical"
CRIMINAL = "user.criminal_history"
REFERENCE = ref.adequacy_mechanisms()


def party(name, country, role="processor", *, certs=(), hints=(), scope=None, id=None):
    return p.PartyFacts(
        name, country, role, frozenset(certs), frozenset(hints), id, scope,
        ref.jurisdiction_of(country),
    )  # fmt: skip


ACME = party("Acme GmbH", "DE", "controller")
INDIA = party("Bangalore Analytics Pvt Ltd", "IN")
UK_EXP = party("Albion Ltd", "GB", "controller")
CH_EXP = party("Helvetia AG", "CH", "controller")
US_EXP_3_2 = party("Shopfront Inc", "US", "controller", scope={p.HINT_GDPR_ART3_2: True})
DRAGON = party("Dragon Data Co", "CN")


def facts(src="DE", dst="IN", *, exporter=ACME, importer=INDIA, cats=(EMAIL,), **kw):
    kw.setdefault("frequency", p.RECURRING)
    return p.TransferFacts(
        source_country=src,
        source_jurisdiction=ref.jurisdiction_of(src),
        destination_country=dst,
        destination_jurisdiction=ref.jurisdiction_of(dst),
        exporter=exporter,
        importer=importer,
        data_categories=tuple(cats),
        special_categories=frozenset({HEALTH}),
        criminal_categories=frozenset({CRIMINAL}),
        **kw,
    )


def scc(exporter=ACME, importer=INDIA, *, module=2, tia=date(2026, 3, 1), key="scc-1", **kw):
    return p.SCC(
        key=key,
        name="SCCs",
        reference=key.upper(),
        valid_from=date(2024, 1, 1),
        exporter=p.PartyRef(exporter.name, exporter.country),
        importer=p.PartyRef(importer.name, importer.country),
        tia_on=tia,
        tia_outcome=p.TIA_NO_CONCERNS if tia else None,
        module=module,
        **kw,
    )


def bcr(members, *, categories=(), tia=date(2026, 3, 1)):
    return p.BCR(
        key="bcr-acme",
        name="Acme BCR",
        reference="BCR-1",
        valid_from=date(2019, 1, 1),
        group="Acme group",
        bcr_type="controller",
        jurisdiction="EEA",
        members=tuple(p.PartyRef(m.name, m.country) for m in members),
        categories=frozenset(categories),
        tia_on=tia,
        tia_outcome=p.TIA_NO_CONCERNS if tia else None,
    )


@dataclass
class Case:
    id: str
    facts: p.TransferFacts
    mechanisms: list = field(default_factory=lambda: REFERENCE)
    on: date = ON
    transfer: bool = True
    allowed: bool = True
    basis: str | None = None
    codes: dict = field(default_factory=dict)
    absent: tuple = ()
    words: tuple = ()
    tia_validity: timedelta = p.TIA_DEFAULT_VALIDITY


CASES = [
    # --- 1. What a transfer is (EDPB Guidelines 05/2021, three criteria) ---------------------
    # Criterion 3: the importer's own country decides, not the server's.
    Case(
        "hosted-in-france-handed-to-china-is-a-transfer-to-china",
        facts("DE", "FR", importer=DRAGON),
        allowed=False,
        codes={"DESTINATION_IS_IMPORTER_COUNTRY": "info", "NO_BASIS": "blocking"},
        words=("CN has no EU adequacy decision",),
    ),
    # Criterion 2: the exporter's own employee opening the data abroad is not a transfer.
    Case(
        "own-employee-abroad-same-entity-is-no-transfer",
        facts("DE", "IN", importer=party("Acme GmbH", "DE", "controller")),
        transfer=False,
        basis="none_needed",
        codes={"NOT_A_TRANSFER_SAME_ENTITY": "info"},
        words=("EDPB Guidelines 05/2021, criterion 2",),
    ),
    # Criterion 2: remote access by another entity (a support contractor abroad) is one.
    Case(
        "support-contractor-abroad-is-a-transfer",
        facts("DE", "IN"),
        [scc()],
        basis="scc",
        codes={"SCC_IN_FORCE": "info"},
    ),
    # Criterion 1 with Art. 3(2): an exporter abroad subject to the GDPR transfers under it.
    Case(
        "art-3-2-exporter-makes-gdpr-transfers",
        facts("US", "IN", exporter=US_EXP_3_2),
        allowed=False,
        codes={"EXPORTER_SUBJECT_TO_GDPR_ART3_2": "info", "NO_BASIS": "blocking"},
        absent=("ORIGIN_REGIME_NOT_MODELLED",),
        words=("Art. 3(2)", "no EU adequacy decision"),
    ),
    # Both regimes apply to a UK exporter that is also subject to the GDPR under Art. 3(2).
    Case(
        "art-3-2-exporter-in-the-uk-both-regimes",
        facts(
            "GB",
            "IN",
            exporter=party("Albion Ltd", "GB", "controller", scope={p.HINT_GDPR_ART3_2: True}),
        ),
        allowed=False,
        codes={"ORIGIN_REGIME_ALSO_APPLIES": "warning", "EXPORTER_SUBJECT_TO_GDPR_ART3_2": "info"},
        words=("the UK GDPR governs",),
    ),
    # A host abroad stated as an onward leg is checked as one, not asked about again.
    Case(
        "hosting-abroad-stated-as-an-onward-leg",
        facts(
            "DE",
            "US",
            importer=INDIA,
            onward=(p.OnwardLeg(party("Cloudy Inc", "US", certs=[p.CERT_EU_US_DPF])),),
        ),
        [*REFERENCE, scc()],
        basis="scc",
        codes={"ONWARD_TRANSFER_COVERED": "info"},
        absent=("HOSTING_ABROAD_NOT_STATED",),
    ),
    # An importer subject to Art. 3(2) still receives a transfer; 2021/914 not designed for it
    # (Decision 2021/914, Recital 7).
    Case(
        "art-3-2-importer-still-a-transfer-sccs-not-designed-for-it",
        facts(
            importer=party("Bangalore Analytics Pvt Ltd", "IN", scope={p.HINT_GDPR_ART3_2: True})
        ),
        [scc()],
        basis="scc",
        codes={"SCC_IMPORTER_SUBJECT_TO_GDPR": "warning"},
        words=("Recital 7",),
    ),
    # International organisations are destinations: EPO adequacy of 15 July 2025.
    Case(
        "european-patent-organisation-adequacy",
        facts(
            "DE",
            "DE",
            importer=party(
                "European Patent Organisation",
                "DE",
                hints=[p.HINT_INTERNATIONAL_ORGANISATION],
            ),
        ),
        basis="adequacy",
        codes={"IMPORTER_INTERNATIONAL_ORGANISATION": "info", "ADEQUACY_IN_FORCE": "info"},
    ),
    Case(
        "international-organisation-before-its-decision",
        facts(
            "DE",
            "DE",
            importer=party(
                "European Patent Organisation", "DE", hints=[p.HINT_INTERNATIONAL_ORGANISATION]
            ),
        ),
        on=date(2025, 1, 1),
        allowed=False,
        codes={"MECHANISM_NOT_YET_VALID": "blocking"},
    ),
    # --- 2. Conditions, not guesses (scope of partial adequacy decisions) --------------------
    # Decision 2019/419: APPI business operators, private sector, profit or not.
    Case(
        "japan-unanswered-is-a-condition",
        facts(dst="JP", importer=party("Sakura KK", "JP")),
        basis="adequacy",
        codes={"ADEQUACY_SCOPE_UNCONFIRMED": "condition"},
        words=("business operator",),
    ),
    Case(
        "japan-non-profit-appi-operator-is-covered",
        facts(
            dst="JP",
            importer=party(
                "Sakura Foundation",
                "JP",
                scope={p.HINT_APPI_OPERATOR: True, p.HINT_COMMERCIAL: False},
            ),
        ),
        basis="adequacy",
        codes={"ADEQUACY_PARTIAL_SCOPE": "info"},
        absent=("ADEQUACY_SCOPE_UNCONFIRMED",),
        words=("declared", "not verified"),
    ),
    Case(
        "japan-public-body-refused",
        facts(dst="JP", importer=party("Tokyo Ward Office", "JP", hints=[p.HINT_PUBLIC_AUTHORITY])),
        allowed=False,
        codes={"ADEQUACY_SCOPE_NOT_MET": "blocking"},
    ),
    # Art. 46(1): with SCCs on record the transfer is lawful whether or not the importer is in
    # the adequacy decision's scope, so an unanswered scope question needs no confirmation.
    Case(
        "japan-unanswered-but-sccs-cover-it-anyway",
        facts(dst="JP", importer=party("Sakura KK", "JP")),
        [*REFERENCE, scc(importer=party("Sakura KK", "JP"))],
        basis="scc",
        codes={"ADEQUACY_SCOPE_UNCONFIRMED": "info", "SCC_IN_FORCE": "info"},
        words=("either way",),
    ),
    # Art. 49(1): a derogation applies only where neither Art. 45 nor 46 does; the condition
    # on the adequacy decision stays.
    Case(
        "japan-unanswered-with-a-derogation-stays-a-condition",
        facts(
            dst="JP",
            importer=party("Sakura KK", "JP"),
            derogation="important_public_interest",
        ),
        basis="adequacy",
        codes={"ADEQUACY_SCOPE_UNCONFIRMED": "condition", "DEROGATION_NOT_NEEDED": "info"},
    ),
    # Decision 2002/2/EC: PIPEDA, commercial activities. "Commercial" is Canada's test.
    Case(
        "canada-unanswered-is-a-condition",
        facts(dst="CA", importer=party("Maple Corp", "CA")),
        basis="adequacy",
        codes={"ADEQUACY_SCOPE_UNCONFIRMED": "condition"},
        words=("PIPEDA",),
    ),
    Case(
        "canada-public-body-refused",
        facts(dst="CA", importer=party("Ontario Agency", "CA", hints=[p.HINT_PUBLIC_AUTHORITY])),
        allowed=False,
        codes={"ADEQUACY_SCOPE_NOT_MET": "blocking"},
    ),
    # Decision 2011/61/EU: automated processing; manual files refused when stated.
    Case(
        "israel-unanswered-is-a-condition",
        facts(dst="IL", importer=party("Negev Ltd", "IL")),
        basis="adequacy",
        codes={"ADEQUACY_SCOPE_UNCONFIRMED": "condition"},
    ),
    # Decision (EU) 2022/254: PIPA, without credit data of FSC-supervised entities.
    Case(
        "korea-eu-fsc-credit-stated-refused",
        facts(dst="KR", importer=party("Hangang Card", "KR", scope={p.HINT_FSC_CREDIT: True})),
        allowed=False,
        codes={"ADEQUACY_SCOPE_NOT_MET": "blocking"},
    ),
    Case(
        "korea-eu-pipa-yes-credit-no-is-covered",
        facts(
            dst="KR",
            importer=party("Hangang Co", "KR", scope={p.HINT_PIPA: True, p.HINT_FSC_CREDIT: False}),
        ),
        basis="adequacy",
        absent=("ADEQUACY_SCOPE_UNCONFIRMED",),
    ),
    # Decision (EU) 2023/1795: the DPF list; unanswered is a condition, "not certified" refuses.
    Case(
        "us-dpf-unanswered-is-a-condition",
        facts(dst="US", importer=party("Cloudy Inc", "US")),
        basis="adequacy",
        codes={"ADEQUACY_SCOPE_UNCONFIRMED": "condition"},
    ),
    # DPF Principles, Supplemental Principle 9 (HR data): HR data needs the HR certification.
    Case(
        "us-dpf-hr-data-without-hr-certification-refused",
        facts(
            dst="US",
            importer=party(
                "Cloudy Inc", "US", certs=[p.CERT_EU_US_DPF], scope={p.CERT_EU_US_DPF_HR: False}
            ),
            hr_data=True,
        ),
        allowed=False,
        codes={"ADEQUACY_SCOPE_NOT_MET": "blocking"},
    ),
    Case(
        "us-dpf-hr-data-hr-certification-unanswered-is-a-condition",
        facts(dst="US", importer=party("Cloudy Inc", "US", certs=[p.CERT_EU_US_DPF]), hr_data=True),
        basis="adequacy",
        codes={"ADEQUACY_SCOPE_UNCONFIRMED": "condition"},
        words=("HR data",),
    ),
    # --- 3. Each regime its own rules ------------------------------------------------------
    # SI 2022/1213 reg. 2: the UK's Korea regulations have no credit-data exclusion.
    Case(
        "uk-korea-credit-data-covered",
        facts(
            "GB",
            "KR",
            exporter=UK_EXP,
            importer=party(
                "Hangang Card", "KR", scope={p.HINT_FSC_CREDIT: True, p.HINT_PIPA: True}
            ),
        ),
        basis="adequacy",
        absent=("ADEQUACY_SCOPE_NOT_MET",),
    ),
    # TCA Art. FINPROV.10A: EU to UK from 1 January to 30 June 2021 was not a transfer.
    Case(
        "eu-to-uk-under-the-tca-bridge",
        facts("DE", "GB", importer=party("Thames Ltd", "GB")),
        on=date(2021, 3, 1),
        transfer=False,
        basis="none_needed",
        codes={"NOT_A_TRANSFER_TCA_BRIDGE": "info"},
    ),
    # Withdrawal Agreement Art. 127: until 31 December 2020 UK to EEA was intra-EU.
    Case(
        "uk-to-eea-before-2021-intra-eu",
        facts("GB", "FR", exporter=UK_EXP, importer=party("Nuage SA", "FR")),
        on=date(2020, 6, 1),
        transfer=False,
        basis="none_needed",
        codes={"NOT_A_TRANSFER_UK_UNDER_EU_LAW": "info"},
    ),
    Case(
        "eu-to-uk-after-the-bridge-needs-adequacy",
        facts("DE", "GB", importer=party("Thames Ltd", "GB")),
        on=date(2021, 7, 1),
        basis="adequacy",
        codes={"ADEQUACY_IN_FORCE": "info"},
    ),
    # The revised Swiss FADP (and its Annex 1) from 1 September 2023.
    Case(
        "swiss-before-revised-fadp",
        facts("CH", "GB", exporter=CH_EXP, importer=party("Thames Ltd", "GB")),
        on=date(2023, 6, 1),
        allowed=False,
        codes={"SWISS_FORMER_FADP": "warning", "MECHANISM_NOT_YET_VALID": "blocking"},
    ),
    # DPO Annex 1: Japan is not on the Swiss list although the EU found it adequate.
    Case(
        "swiss-list-is-not-the-eus",
        facts(
            "CH",
            "JP",
            exporter=CH_EXP,
            importer=party("Sakura KK", "JP", hints=[p.HINT_APPI_OPERATOR]),
        ),
        allowed=False,
        words=("JP has no Swiss adequacy decision",),
    ),
    # --- 4. Art. 49 as written (EDPB Guidelines 2/2018) ------------------------------------
    # Recital 111: "occasional" is not "one-off" — consent, contract and legal claims allow it.
    Case(
        "contract-ground-occasional-allowed",
        facts(derogation="contract_with_data_subject", frequency=p.OCCASIONAL),
        basis="derogation",
        codes={"DEROGATION_USED": "warning"},
    ),
    Case(
        "legal-claims-regular-refused",
        facts(derogation="legal_claims", frequency=p.RECURRING),
        allowed=False,
        codes={"DEROGATION_NOT_FOR_RECURRING": "blocking"},
        words=("occasional", "EDPB Guidelines 2/2018"),
    ),
    # 49(1)(d) and (f) are not limited to occasional transfers.
    Case(
        "important-public-interest-regular-allowed",
        facts(derogation="important_public_interest", frequency=p.RECURRING),
        basis="derogation",
    ),
    Case(
        "vital-interests-regular-allowed",
        facts(derogation="vital_interests", frequency=p.RECURRING),
        basis="derogation",
    ),
    # Art. 49(1)(a): informed of the risks; unanswered is a condition, "no" refuses.
    Case(
        "consent-not-informed-refused",
        facts(
            derogation="explicit_consent",
            frequency=p.ONE_OFF,
            derogation_facts={"informed_of_risks": False},
        ),
        allowed=False,
        codes={"DEROGATION_CONDITION_NOT_MET": "blocking"},
        words=("informed of the possible risks",),
    ),
    # Art. 49(1) second subparagraph: not repetitive, few subjects, SA and subjects informed.
    Case(
        "compelling-interests-authority-not-informed-refused",
        facts(
            derogation="compelling_legitimate_interests",
            frequency=p.OCCASIONAL,
            derogation_facts={
                "few_data_subjects": True,
                "safeguards_assessed": True,
                "authority_informed": False,
                "subjects_informed": True,
            },
        ),
        allowed=False,
        codes={"DEROGATION_CONDITION_NOT_MET": "blocking"},
        words=("supervisory authority is informed",),
    ),
    Case(
        "compelling-interests-all-stated-allowed",
        facts(
            derogation="compelling_legitimate_interests",
            frequency=p.ONE_OFF,
            derogation_facts=dict.fromkeys(
                [
                    "few_data_subjects",
                    "safeguards_assessed",
                    "authority_informed",
                    "subjects_informed",
                ],
                True,
            ),
        ),
        basis="derogation",
        absent=("DEROGATION_CONDITION_UNCONFIRMED",),
    ),
    Case(
        "compelling-interests-repetitive-refused",
        facts(derogation="compelling_legitimate_interests", frequency=p.RECURRING),
        allowed=False,
        codes={"DEROGATION_NOT_FOR_RECURRING": "blocking"},
        words=("not repetitive",),
    ),
    # --- 5. Facts a request can state ------------------------------------------------------
    # Art. 9(2): the condition relied on; unanswered is a condition.
    Case(
        "special-categories-art9-unstated-is-a-condition",
        facts(cats=(HEALTH,)),
        [scc()],
        basis="scc",
        codes={"ART9_CONDITION_NOT_STATED": "condition", "SPECIAL_CATEGORY_NEEDS_DPO": "warning"},
    ),
    Case(
        "special-categories-art9-stated",
        facts(cats=(HEALTH,), art9_condition="h"),
        [scc()],
        basis="scc",
        codes={"ART9_CONDITION_STATED": "info"},
        absent=("ART9_CONDITION_NOT_STATED",),
        words=("Art. 9(2)(h)",),
    ),
    # Art. 10: the authorisation by law for criminal-offence data.
    Case(
        "criminal-data-art10-unstated-is-a-condition",
        facts(cats=(CRIMINAL,)),
        [scc()],
        basis="scc",
        codes={"ART10_AUTHORISATION_NOT_STATED": "condition"},
    ),
    # Schrems II (C-311/18) applies to every Art. 46 tool: BCRs need a TIA too.
    Case(
        "bcr-without-tia-refused",
        facts(importer=party("Acme India", "IN", "controller")),
        [bcr([ACME, party("Acme India", "IN", "controller")], categories=["user"], tia=None)],
        allowed=False,
        codes={"TIA_MISSING": "blocking"},
        words=("BCRs included",),
    ),
    # An empty BCR category list means "none stated", never "everything".
    Case(
        "bcr-categories-none-stated-is-a-condition",
        facts(importer=party("Acme India", "IN", "controller")),
        [bcr([ACME, party("Acme India", "IN", "controller")])],
        basis="bcr",
        codes={"BCR_CATEGORIES_NOT_STATED": "condition"},
    ),
    # The request's own TIA (EDPB Recommendations 01/2020) for the mechanism chosen.
    Case(
        "request-states-a-negative-tia",
        facts(tia=p.TIA(date(2026, 10, 1), p.TIA_DO_NOT_TRANSFER), chosen_mechanism="scc-1"),
        [scc()],
        allowed=False,
        codes={"TIA_NEGATIVE": "blocking"},
    ),
    # Onward transfers: each leg checked (Art. 44; SCC Clause 8.7).
    Case(
        "onward-leg-without-basis-refused",
        facts(onward=(p.OnwardLeg(DRAGON),)),
        [scc()],
        allowed=False,
        codes={"ONWARD_TRANSFER_BLOCKED": "blocking"},
        words=("Onward transfer 1",),
    ),
    Case(
        "onward-leg-under-sccs-allowed",
        facts(onward=(p.OnwardLeg(DRAGON),)),
        [scc(), scc(INDIA, DRAGON, module=3, key="scc-2")],
        basis="scc",
        codes={"ONWARD_TRANSFER_COVERED": "info"},
    ),
    # --- 6. Reasons a DPO accepts -----------------------------------------------------------
    Case(
        "india-refusal-in-words",
        facts(),
        [],
        allowed=False,
        words=(
            "IN has no EU adequacy decision",
            "no BCR or SCCs between these parties is on record",
            "Art. 49 derogations need an occasional transfer",
        ),
    ),
    # Privacy Shield appears only where the importer relied on it.
    Case(
        "privacy-shield-not-mentioned-without-reliance",
        facts(dst="US", importer=party("Cloudy Inc", "US", certs=[p.CERT_EU_US_DPF])),
        on=date(2024, 1, 1),
        basis="adequacy",
        absent=("MECHANISM_INVALIDATED",),
    ),
    Case(
        "privacy-shield-invalidated-by-the-cjeu",
        facts(dst="US", importer=party("Cloudy Inc", "US", certs=[p.CERT_EU_US_PRIVACY_SHIELD])),
        on=date(2021, 1, 1),
        allowed=False,
        codes={"MECHANISM_INVALIDATED": "blocking"},
        words=("invalidated", "C-311/18"),
    ),
    # The one-year TIA lapse is a house rule, and a setting.
    Case(
        "tia-lapse-is-a-house-rule",
        facts(),
        [scc(tia=date(2025, 1, 1))],
        allowed=False,
        codes={"TIA_EXPIRED": "blocking"},
        words=("HOUSE RULE", "TRANSFERS_TIA_VALIDITY_DAYS"),
    ),
    Case(
        "tia-house-rule-longer-setting",
        facts(),
        [scc(tia=date(2025, 1, 1))],
        basis="scc",
        tia_validity=timedelta(days=730),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_law(case: Case):
    decision = p.evaluate(case.facts, case.mechanisms, case.on, tia_validity=case.tia_validity)
    found = {f.code: f.severity for f in decision.findings}
    text = " ".join(f.message for f in decision.findings)
    context = f"{case.id}: {found}\n{text}"
    assert decision.transfer is case.transfer, context
    assert decision.allowed is case.allowed, context
    if case.basis:
        assert decision.basis == case.basis, context
    for code, severity in case.codes.items():
        assert found.get(code) == severity, context
    for code in case.absent:
        assert code not in found, context
    for phrase in case.words:
        assert phrase in text, context
    assert decision.allowed == (not decision.blocking), context
    json.dumps(decision.as_dict())


def test_contradictory_origin_facts_are_refused():
    # Art. 3(2) covers only controllers and processors NOT established in the Union.
    with pytest.raises(ValueError, match="contradictory"):
        party("Acme GmbH", "DE", "controller", scope={p.HINT_GDPR_ART3_2: True})


def test_unknown_request_facts_are_refused():
    with pytest.raises(ValueError):
        party("X", "US", scope={"fairy_certified": True})
    with pytest.raises(ValueError):
        facts(art9_condition="z")
    with pytest.raises(ValueError):
        facts(derogation_facts={"mostly_harmless": True})
    with pytest.raises(ValueError):
        p.TIA(date(2026, 1, 1), "looks_fine")


def test_conditions_are_listed_on_the_decision():
    decision = p.evaluate(facts(dst="JP", importer=party("Sakura KK", "JP")), REFERENCE, ON)
    assert [c.code for c in decision.conditions] == ["ADEQUACY_SCOPE_UNCONFIRMED"]
    assert decision.as_dict()["conditions"] == ["ADEQUACY_SCOPE_UNCONFIRMED"]


def test_uk_korea_regulations_are_verified_and_differ_from_the_eu():
    uk = next(e for e in ref.ADEQUACY_DECISIONS if e["key"] == "uk-adequacy-KR")
    eu = next(e for e in ref.ADEQUACY_DECISIONS if e["key"] == "eu-adequacy-KR")
    assert uk["verified"] and "2022/1213" in uk["source"]
    assert p.HINT_FSC_CREDIT not in uk["excluded_hints"]
    assert p.HINT_FSC_CREDIT in eu["excluded_hints"]


def test_every_finding_code_is_documented_with_its_source():
    """docs/transfers.md lists every finding code the engine can raise, with its legal source."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    engine = (root / "controlplane/transfers/policy.py").read_text()
    codes = set(re.findall(r'"([A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+)"', engine))
    table = (root / "docs/transfers.md").read_text().split("## Finding codes and their legal")[1]
    missing = sorted(code for code in codes if f"`{code}`" not in table)
    assert not missing, f"undocumented finding codes: {missing}"
