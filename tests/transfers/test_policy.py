"""Table-driven tests of the pure transfer policy engine (no database).

Each scenario names the rule it checks. Expected findings are given as {code: severity}; a
severity of None only asserts that the code is present.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

import pytest

from controlplane.transfers import policy as p
from controlplane.transfers import reference_data as ref

ON = date(2026, 12, 1)
EMAIL = "user.contact.email"
HEALTH = "user.health"
CRIMINAL = "user.criminal_history"
SPECIAL = frozenset({HEALTH, "user.biometrics", "user.demographic.race_ethnicity"})
CRIMINALS = frozenset({CRIMINAL})

REFERENCE = ref.adequacy_mechanisms()


def party(name, country, role, *, certs=(), hints=(), id=None, scope=None):
    return p.PartyFacts(
        name, country, role, frozenset(certs), frozenset(hints), id, scope,
        ref.jurisdiction_of(country),
    )  # fmt: skip


def pref(party_facts, *, id=None):
    return p.PartyRef(party_facts.name, party_facts.country, id)


ACME = party("Acme GmbH", "DE", "controller")
ACME_PROC = party("Acme GmbH", "DE", "processor")
CLOUDY = party("Cloudy Inc", "US", "processor")
CLOUDY_DPF = party("Cloudy Inc", "US", "processor", certs=[p.CERT_EU_US_DPF])
CLOUDY_CTRL = party("Cloudy Inc", "US", "controller")
CLOUDY_NOT_DPF = party("Cloudy Inc", "US", "processor", scope={p.CERT_EU_US_DPF: False})
INDIA = party("Bangalore Analytics Pvt Ltd", "IN", "processor")
UK_EXP = party("Albion Ltd", "GB", "controller")
CH_EXP = party("Helvetia AG", "CH", "controller")


def facts(
    src="DE",
    dst="US",
    *,
    exporter=ACME,
    importer=CLOUDY_DPF,
    cats=(EMAIL,),
    freq="recurring",
    derogation=None,
    chosen=None,
):
    return p.TransferFacts(
        source_country=src,
        source_jurisdiction=ref.jurisdiction_of(src),
        destination_country=dst,
        destination_jurisdiction=ref.jurisdiction_of(dst),
        exporter=exporter,
        importer=importer,
        data_categories=tuple(cats),
        special_categories=SPECIAL,
        criminal_categories=CRIMINALS,
        frequency=freq,
        derogation=derogation,
        chosen_mechanism=chosen,
    )


def scc(
    module=2,
    *,
    exporter=ACME,
    importer=CLOUDY,
    signed=date(2024, 1, 10),
    tia=date(2026, 3, 1),
    outcome=p.TIA_NO_CONCERNS,
    tia_valid_until=None,
    status=p.IN_FORCE,
    ends_on=None,
    decision=p.SCC_DECISION_2021,
    categories=(),
    key="scc-1",
    review_on=None,
    ids=(None, None),
):
    return p.SCC(
        key=key,
        name="Acme-Cloudy SCCs",
        reference=f"SCC-{key}",
        status=status,
        valid_from=signed,
        ends_on=ends_on,
        review_on=review_on,
        exporter=pref(exporter, id=ids[0]),
        importer=pref(importer, id=ids[1]),
        tia_on=tia,
        tia_outcome=outcome if tia else None,
        tia_valid_until=tia_valid_until,
        categories=frozenset(categories),
        module=module,
        decision=decision,
    )


def uk_contract(cls, *, exporter=UK_EXP, importer=INDIA, module=2, tia=date(2026, 5, 1)):
    kw = {"module": module} if cls is p.UKAddendum else {}
    return cls(
        key=f"{cls.kind}-1",
        name="IDTA" if cls is p.IDTA else "UK Addendum",
        valid_from=date(2023, 1, 1),
        exporter=pref(exporter),
        importer=pref(importer),
        tia_on=tia,
        tia_outcome=p.TIA_NO_CONCERNS if tia else None,
        **kw,
    )


def bcr(
    members=(ACME, CLOUDY_CTRL),
    *,
    bcr_type="controller",
    categories=("user",),
    jurisdiction="EEA",
    status=p.IN_FORCE,
    ends_on=None,
    tia=date(2026, 3, 1),
):
    return p.BCR(
        key="bcr-acme",
        name="Acme group BCR",
        reference="BCR-2019-07",
        valid_from=date(2019, 7, 1),
        status=status,
        ends_on=ends_on,
        group="Acme group",
        bcr_type=bcr_type,
        jurisdiction=jurisdiction,
        lead_authority="BfDI",
        members=tuple(pref(m) for m in members),
        categories=frozenset(categories),
        tia_on=tia,
        tia_outcome=p.TIA_NO_CONCERNS if tia else None,
    )


def adequacy(**kw):
    base = dict(
        key="eu-adequacy-XX",
        name="EU adequacy: Testland",
        reference="Decision 2099/1",
        valid_from=date(2010, 1, 1),
        from_jurisdiction="EEA",
        to_country="IN",
    )
    base.update(kw)
    return p.AdequacyDecision(**base)


@dataclass
class Case:
    id: str
    rule: str
    facts: p.TransferFacts
    mechanisms: list = field(default_factory=lambda: REFERENCE)
    on: date = ON
    transfer: bool = True
    allowed: bool = True
    basis: str | None = None
    mechanism_key: str | None = None
    codes: dict = field(default_factory=dict)
    absent: tuple = ()


S = Case  # brevity in the table

CASES = [
    # --- 1. same jurisdiction -------------------------------------------------------------
    S(
        "intra-eea-de-fr",
        "Inside the EEA, data does not leave its jurisdiction: no transfer, no mechanism.",
        facts("DE", "FR", importer=party("Nuage SA", "FR", "processor")),
        transfer=False,
        basis="none_needed",
        codes={"NOT_A_TRANSFER": "info"},
    ),
    S(
        "intra-eea-to-efta-norway",
        "The three EEA-EFTA states belong to the same area as the EU 27.",
        facts("FR", "NO", importer=party("Fjord AS", "NO", "processor")),
        transfer=False,
        basis="none_needed",
        codes={"NOT_A_TRANSFER": "info"},
    ),
    S(
        "uk-to-uk",
        "Inside the UK there is no transfer either.",
        facts("GB", "GB", exporter=UK_EXP, importer=party("Thames Ltd", "GB", "processor")),
        transfer=False,
        basis="none_needed",
        codes={"NOT_A_TRANSFER": "info"},
    ),
    S(
        "intra-eea-special-category-no-transfer",
        "Health data staying in the EEA is still not a transfer; the engine has nothing to add.",
        facts("DE", "IE", importer=party("Emerald Ltd", "IE", "processor"), cats=[HEALTH]),
        transfer=False,
        basis="none_needed",
        absent=("SPECIAL_CATEGORY_NEEDS_DPO",),
    ),
    # --- 2. adequacy and its scope ---------------------------------------------------------
    S(
        "eu-us-dpf-certified",
        "EU-US DPF adequacy covers a DPF-certified importer.",
        facts(),
        basis="adequacy",
        mechanism_key="eu-adequacy-US",
        codes={"ADEQUACY_IN_FORCE": "info", "ADEQUACY_PARTIAL_SCOPE": "info"},
    ),
    S(
        "eu-us-not-certified-no-basis",
        # Implementing Decision (EU) 2023/1795, Art. 1: only organisations on the DPF list.
        "EU-US DPF adequacy does not cover an importer stated NOT to be certified.",
        facts(importer=CLOUDY_NOT_DPF),
        allowed=False,
        codes={"ADEQUACY_SCOPE_NOT_MET": "blocking", "NO_BASIS": "blocking"},
    ),
    S(
        "eu-us-not-certified-falls-to-scc",
        "When the adequacy scope is not met, the engine moves on to SCCs and keeps the reason.",
        facts(importer=CLOUDY_NOT_DPF),
        [*REFERENCE, scc()],
        basis="scc",
        mechanism_key="scc-1",
        codes={"ADEQUACY_SCOPE_NOT_MET": "info", "SCC_IN_FORCE": "info", "TIA_CURRENT": "info"},
    ),
    S(
        "eu-ca-commercial",
        "Canada's decision covers commercial organisations subject to PIPEDA.",
        facts(dst="CA", importer=party("Maple Corp", "CA", "processor", hints=[p.HINT_COMMERCIAL])),
        basis="adequacy",
        mechanism_key="eu-adequacy-CA",
    ),
    S(
        "eu-ca-public-body-scope-not-met",
        "Canada's decision does not cover a public body, which PIPEDA does not govern.",
        facts(
            dst="CA",
            importer=party("Ontario Health Agency", "CA", "processor", hints=["public_authority"]),
        ),
        allowed=False,
        codes={"ADEQUACY_SCOPE_NOT_MET": "blocking", "NO_BASIS": "blocking"},
    ),
    S(
        "eu-jp-appi-business",
        # Implementing Decision (EU) 2019/419, Art. 1: APPI business operators.
        "Japan's decision covers APPI business operators.",
        facts(
            dst="JP", importer=party("Sakura KK", "JP", "processor", hints=[p.HINT_APPI_OPERATOR])
        ),
        basis="adequacy",
        mechanism_key="eu-adequacy-JP",
        codes={"ADEQUACY_PARTIAL_SCOPE": "info"},
        absent=("ADEQUACY_SCOPE_UNCONFIRMED",),
    ),
    S(
        "eu-kr-pipa",
        "Korea's decision covers recipients subject to PIPA.",
        facts(dst="KR", importer=party("Hangang Co", "KR", "processor")),
        basis="adequacy",
        mechanism_key="eu-adequacy-KR",
    ),
    S(
        "eu-kr-fsc-credit-excluded",
        "Korea's decision excludes credit information of FSC-supervised entities.",
        facts(
            dst="KR", importer=party("Hangang Card", "KR", "processor", hints=["fsc_credit_data"])
        ),
        allowed=False,
        codes={"ADEQUACY_SCOPE_NOT_MET": "blocking"},
    ),
    S(
        "eu-il-automated",
        "Israel's decision covers automated transfers.",
        facts(dst="IL", importer=party("Negev Ltd", "IL", "processor", hints=[p.HINT_AUTOMATED])),
        basis="adequacy",
        mechanism_key="eu-adequacy-IL",
    ),
    S(
        "eu-il-manual-scope-not-met",
        # Decision 2011/61/EU, Art. 1: automated transfers, or manual ones processed
        # automatically in Israel. A request STATING manual processing is outside.
        "Israel's decision does not cover manual transfers processed by hand.",
        facts(
            dst="IL",
            importer=party("Negev Ltd", "IL", "processor", scope={p.HINT_AUTOMATED: False}),
        ),
        allowed=False,
        codes={"ADEQUACY_SCOPE_NOT_MET": "blocking"},
    ),
    S(
        "eu-ch-full",
        "Switzerland has full EU adequacy.",
        facts(dst="CH", importer=party("Alpen AG", "CH", "processor")),
        basis="adequacy",
        mechanism_key="eu-adequacy-CH",
        absent=("ADEQUACY_PARTIAL_SCOPE",),
    ),
    S(
        "eu-gb-in-force",
        "The UK decision (renewed) is in force in 2026.",
        facts(dst="GB", importer=party("Thames Ltd", "GB", "processor")),
        basis="adequacy",
        mechanism_key="eu-adequacy-GB",
    ),
    S(
        "eu-gb-expired-2032",
        "An adequacy decision stops applying on its expiry date.",
        facts(dst="GB", importer=party("Thames Ltd", "GB", "processor")),
        on=date(2032, 1, 10),
        allowed=False,
        codes={"MECHANISM_EXPIRED": "blocking", "NO_BASIS": "blocking"},
    ),
    S(
        "eu-br-after-adoption",
        "Brazil's decision applies from its adoption in 2026, as a partial scope.",
        facts(dst="BR", importer=party("Ipanema Ltda", "BR", "processor")),
        basis="adequacy",
        mechanism_key="eu-adequacy-BR",
        # Recipients subject to the LGPD: unanswered, it is a condition, not a refusal.
        codes={"ADEQUACY_SCOPE_UNCONFIRMED": "condition"},
    ),
    S(
        "eu-br-before-adoption",
        "A decision does not apply before it was adopted.",
        facts(dst="BR", importer=party("Ipanema Ltda", "BR", "processor")),
        on=date(2025, 6, 1),
        allowed=False,
        codes={"MECHANISM_NOT_YET_VALID": "blocking", "NO_BASIS": "blocking"},
    ),
    S(
        "eu-in-no-adequacy",
        "India has no EU adequacy decision; without safeguards the transfer is blocked.",
        facts(dst="IN", importer=INDIA),
        allowed=False,
        codes={"NO_BASIS": "blocking"},
        absent=("ADEQUACY_SCOPE_NOT_MET",),
    ),
    S(
        "adequacy-suspended-without-date",
        "A suspended decision with no end date is not relied on at all.",
        facts(dst="IN", importer=INDIA),
        [adequacy(status=p.SUSPENDED)],
        allowed=False,
        codes={"MECHANISM_SUSPENDED": "blocking"},
    ),
    S(
        "adequacy-review-overdue",
        "A decision past its review date still applies, with a warning.",
        facts(dst="IN", importer=INDIA),
        [adequacy(review_on=date(2025, 1, 1))],
        basis="adequacy",
        codes={"MECHANISM_REVIEW_OVERDUE": "warning"},
    ),
    # --- Privacy Shield history --------------------------------------------------------------
    S(
        "privacy-shield-before-schrems-ii",
        "Before 2020-07-16 the Privacy Shield covered self-certified US importers.",
        facts(importer=party("Cloudy Inc", "US", "processor", certs=[p.CERT_EU_US_PRIVACY_SHIELD])),
        on=date(2019, 6, 1),
        basis="adequacy",
        mechanism_key="eu-us-privacy-shield",
    ),
    S(
        "privacy-shield-on-judgment-day",
        "From the day of the Schrems II judgment the Privacy Shield is no basis.",
        facts(importer=party("Cloudy Inc", "US", "processor", certs=[p.CERT_EU_US_PRIVACY_SHIELD])),
        on=date(2020, 7, 16),
        allowed=False,
        codes={"MECHANISM_INVALIDATED": "blocking", "NO_BASIS": "blocking"},
    ),
    S(
        "privacy-shield-after-schrems-ii",
        "After 2020-07-16 a Privacy Shield certification gives no basis.",
        facts(importer=party("Cloudy Inc", "US", "processor", certs=[p.CERT_EU_US_PRIVACY_SHIELD])),
        on=date(2021, 3, 1),
        allowed=False,
        codes={"MECHANISM_INVALIDATED": "blocking", "NO_BASIS": "blocking"},
    ),
    S(
        "dpf-before-its-adoption",
        "A DPF certification gives no basis before the DPF decision of 2023-07-10.",
        facts(),
        on=date(2022, 1, 5),
        allowed=False,
        codes={"MECHANISM_NOT_YET_VALID": "blocking"},
    ),
    # --- 3. BCRs ---------------------------------------------------------------------------
    S(
        "bcr-covers",
        "BCRs binding both entities and covering the destination are a basis.",
        facts(importer=CLOUDY_CTRL),
        [bcr()],
        basis="bcr",
        mechanism_key="bcr-acme",
        codes={"BCR_COVERS": "info", "TIA_CURRENT": "info"},
        absent=("BCR_CATEGORIES_NOT_STATED",),
    ),
    S(
        "bcr-not-covering-importer",
        "BCRs do not cover an importer outside the group.",
        facts(importer=CLOUDY_CTRL),
        [bcr(members=(ACME, party("Acme Inc", "US", "controller")))],
        allowed=False,
        codes={"BCR_NOT_COVERING_ENTITY": "blocking", "NO_BASIS": "blocking"},
    ),
    S(
        "bcr-member-in-destination",
        "BCRs with a member in the destination country cover it.",
        facts(dst="IN", importer=party("Cloudy Inc", "IN", "controller")),
        [bcr(members=(ACME, party("Cloudy Inc", "IN", "controller"), CLOUDY_CTRL))],
        basis="bcr",
    ),
    S(
        "bcr-importer-country-decides-hosting-abroad-is-a-condition",
        # EDPB Guidelines 05/2021, criterion 3: the importer's own country decides; the data's
        # host in a third country elsewhere is a further recipient the DPO must account for.
        "Data hosted in India for a US group member is a transfer to the US; the Indian host "
        "is a condition.",
        facts(dst="IN", importer=CLOUDY_CTRL),
        [bcr()],
        basis="bcr",
        codes={"DESTINATION_IS_IMPORTER_COUNTRY": "info", "HOSTING_ABROAD_NOT_STATED": "condition"},
    ),
    S(
        "bcr-not-covering-category",
        "BCRs limited to listed categories do not cover others.",
        facts(importer=CLOUDY_CTRL, cats=[EMAIL, HEALTH]),
        [bcr(categories=["user.contact"])],
        allowed=False,
        codes={"BCR_NOT_COVERING_CATEGORY": "blocking", "SPECIAL_CATEGORY_NEEDS_DPO": "warning"},
    ),
    S(
        "bcr-type-mismatch",
        "Controller BCRs do not cover an exporter acting as processor.",
        facts(exporter=ACME_PROC, importer=CLOUDY_CTRL),
        [bcr(members=(ACME_PROC, CLOUDY_CTRL))],
        allowed=False,
        codes={"BCR_TYPE_MISMATCH": "blocking"},
    ),
    S(
        "bcr-revoked",
        "Revoked BCRs are no basis after their end.",
        facts(importer=CLOUDY_CTRL),
        [bcr(status=p.REVOKED, ends_on=date(2026, 6, 1))],
        allowed=False,
        codes={"MECHANISM_REVOKED": "blocking"},
    ),
    S(
        "order-adequacy-before-bcr",
        "Adequacy comes before BCRs in the order of bases.",
        facts(importer=party("Cloudy Inc", "US", "controller", certs=[p.CERT_EU_US_DPF])),
        [*REFERENCE, bcr()],
        basis="adequacy",
        mechanism_key="eu-adequacy-US",
    ),
    S(
        "order-bcr-before-scc",
        "BCRs come before SCCs in the order of bases.",
        facts(importer=CLOUDY_CTRL),
        [scc(1, importer=CLOUDY_CTRL), bcr()],
        basis="bcr",
    ),
    # --- 4. SCCs and the TIA -----------------------------------------------------------------
    S(
        "scc-module-2-c2p",
        "Module 2 matches a controller exporting to a processor.",
        facts(importer=CLOUDY),
        [scc(2)],
        basis="scc",
        codes={"SCC_IN_FORCE": "info"},
    ),
    S(
        "scc-module-mismatch",
        "Module 1 (controller to controller) does not fit a processor importer.",
        facts(importer=CLOUDY),
        [scc(1)],
        allowed=False,
        codes={"SCC_MODULE_MISMATCH": "blocking", "NO_BASIS": "blocking"},
    ),
    S(
        "scc-module-3-p2p",
        "Module 3 matches a processor passing data to a sub-processor.",
        facts(exporter=ACME_PROC, importer=CLOUDY),
        [scc(3, exporter=ACME_PROC)],
        basis="scc",
    ),
    S(
        "scc-module-4-p2c",
        "Module 4 matches a processor sending data back to its controller.",
        facts(exporter=ACME_PROC, importer=CLOUDY_CTRL),
        [scc(4, exporter=ACME_PROC, importer=CLOUDY_CTRL)],
        basis="scc",
    ),
    S(
        "scc-module-4-mismatch",
        "Module 4 does not fit a controller-to-processor transfer.",
        facts(importer=CLOUDY),
        [scc(4)],
        allowed=False,
        codes={"SCC_MODULE_MISMATCH": "blocking"},
    ),
    S(
        "scc-tia-missing",
        "SCCs need a transfer impact assessment (Schrems II).",
        facts(importer=CLOUDY),
        [scc(tia=None)],
        allowed=False,
        codes={"TIA_MISSING": "blocking"},
    ),
    S(
        "scc-tia-after-date",
        "A TIA dated after the evaluation date did not exist yet.",
        facts(importer=CLOUDY),
        [scc(tia=date(2026, 3, 1))],
        on=date(2026, 2, 1),
        allowed=False,
        codes={"TIA_MISSING": "blocking"},
    ),
    S(
        "scc-tia-expired",
        "A TIA older than its validity (one year by default) has lapsed.",
        facts(importer=CLOUDY),
        [scc(tia=date(2025, 1, 15))],
        allowed=False,
        codes={"TIA_EXPIRED": "blocking"},
    ),
    S(
        "scc-tia-explicit-validity",
        "A TIA with an explicit valid-until date is current until then.",
        facts(importer=CLOUDY),
        [scc(tia=date(2025, 1, 15), tia_valid_until=date(2027, 1, 15))],
        basis="scc",
        codes={"TIA_CURRENT": "info"},
    ),
    S(
        "scc-tia-negative",
        "A TIA that concludes 'do not transfer' blocks the SCCs.",
        facts(importer=CLOUDY),
        [scc(outcome=p.TIA_DO_NOT_TRANSFER)],
        allowed=False,
        codes={"TIA_NEGATIVE": "blocking"},
    ),
    S(
        "scc-tia-supplementary-measures",
        "A TIA that relies on supplementary measures allows the transfer, with a warning.",
        facts(importer=CLOUDY),
        [scc(outcome=p.TIA_SUPPLEMENTARY_MEASURES)],
        basis="scc",
        codes={"TIA_SUPPLEMENTARY_MEASURES": "warning"},
    ),
    S(
        "scc-suspended",
        "Suspended SCCs are no basis.",
        facts(importer=CLOUDY),
        [scc(status=p.SUSPENDED)],
        allowed=False,
        codes={"MECHANISM_SUSPENDED": "blocking"},
    ),
    S(
        "scc-expired-on-date",
        "SCCs past their end date are no basis.",
        facts(importer=CLOUDY),
        [scc(ends_on=date(2026, 11, 30))],
        allowed=False,
        codes={"MECHANISM_EXPIRED": "blocking"},
    ),
    S(
        "scc-other-parties-ignored",
        "SCCs between other parties are not considered at all.",
        facts(importer=CLOUDY),
        [scc(importer=party("Other Inc", "US", "processor"))],
        allowed=False,
        codes={"NO_BASIS": "blocking"},
        absent=("SCC_MODULE_MISMATCH", "TIA_MISSING"),
    ),
    S(
        "scc-matched-by-party-id",
        "Parties with ids match by id even when names are spelled differently.",
        facts(
            importer=party("CLOUDY, INC.", "US", "processor", id=7),
            exporter=party("Acme", "DE", "controller", id=3),
        ),
        [scc(ids=(3, 7))],
        basis="scc",
    ),
    S(
        "scc-old-set-after-2022",
        "SCCs of the 2010 set stopped being valid on 2022-12-27.",
        facts(importer=CLOUDY),
        [scc(decision="2010/87/EU", signed=date(2015, 1, 1))],
        allowed=False,
        codes={"SCC_OLD_SET": "blocking"},
    ),
    S(
        "scc-categories-not-covered",
        "SCCs whose Annex I.B omits a category do not cover it.",
        facts(importer=CLOUDY, cats=[EMAIL, "user.financial"]),
        [scc(categories=["user.contact"])],
        allowed=False,
        codes={"CONTRACT_CATEGORIES_NOT_COVERED": "blocking"},
    ),
    S(
        "scc-categories-covered-by-parent",
        "A parent key in Annex I.B (user.contact) covers its children.",
        facts(importer=CLOUDY, cats=[EMAIL, "user.contact.phone_number"]),
        [scc(categories=["user.contact"])],
        basis="scc",
    ),
    S(
        "scc-first-fails-second-applies",
        "When one SCC fails, another between the same parties can still apply.",
        facts(importer=CLOUDY),
        [scc(1, key="scc-old"), scc(2, key="scc-new")],
        basis="scc",
        mechanism_key="scc-new",
        codes={"SCC_MODULE_MISMATCH": "info"},
    ),
    # --- 5. derogations --------------------------------------------------------------------
    S(
        "derogation-one-off",
        "A one-off transfer can rely on an Art. 49 derogation, with a warning.",
        facts(dst="IN", importer=INDIA, freq="one_off", derogation="legal_claims"),
        basis="derogation",
        codes={"DEROGATION_USED": "warning"},
    ),
    S(
        "derogation-recurring-blocked",
        "Derogations are not for recurring transfers.",
        facts(dst="IN", importer=INDIA, freq="recurring", derogation="explicit_consent"),
        allowed=False,
        codes={"DEROGATION_NOT_FOR_RECURRING": "blocking", "NO_BASIS": "blocking"},
    ),
    S(
        "derogation-public-authority-consent",
        "Explicit consent is not open to a public authority using its powers (Art. 49(3)).",
        facts(
            dst="IN",
            exporter=party("Bundesamt", "DE", "controller", hints=["public_authority"]),
            importer=INDIA,
            freq="one_off",
            derogation="explicit_consent",
        ),
        allowed=False,
        codes={"DEROGATION_NOT_FOR_PUBLIC_AUTHORITY": "blocking"},
    ),
    S(
        "derogation-public-authority-public-interest",
        "Important public interest stays open to a public authority.",
        facts(
            dst="IN",
            exporter=party("Bundesamt", "DE", "controller", hints=["public_authority"]),
            importer=INDIA,
            freq="one_off",
            derogation="important_public_interest",
        ),
        basis="derogation",
    ),
    S(
        "derogation-compelling-interests",
        # Art. 49(1) second subparagraph; EDPB Guidelines 2/2018, 2.8: unanswered conditions
        # are conditions to confirm, not a refusal.
        "The compelling-interests ground carries its unanswered conditions to the approver.",
        facts(
            dst="IN",
            importer=INDIA,
            freq="one_off",
            derogation="compelling_legitimate_interests",
        ),
        basis="derogation",
        codes={"DEROGATION_CONDITION_UNCONFIRMED": "condition"},
    ),
    S(
        "derogation-not-needed-with-adequacy",
        "A derogation is not used when adequacy already covers the transfer.",
        facts(freq="one_off", derogation="explicit_consent"),
        basis="adequacy",
        codes={"DEROGATION_NOT_NEEDED": "info"},
        absent=("DEROGATION_USED",),
    ),
    # --- special categories -------------------------------------------------------------------
    S(
        "special-category-flagged",
        "Art. 9 data is flagged for the DPO even when a basis exists.",
        facts(cats=[EMAIL, HEALTH]),
        basis="adequacy",
        codes={"SPECIAL_CATEGORY_NEEDS_DPO": "warning"},
    ),
    S(
        "criminal-data-flagged",
        "Art. 10 criminal-offence data is flagged.",
        facts(cats=[CRIMINAL]),
        basis="adequacy",
        codes={"CRIMINAL_DATA_NEEDS_DPO": "warning"},
        absent=("SPECIAL_CATEGORY_NEEDS_DPO",),
    ),
    S(
        "special-category-blocked-stays-blocked",
        "Special categories with no basis: blocked, and flagged.",
        facts(dst="IN", importer=INDIA, cats=["user.biometrics"]),
        allowed=False,
        codes={"SPECIAL_CATEGORY_NEEDS_DPO": "warning", "NO_BASIS": "blocking"},
    ),
    # --- UK origin ---------------------------------------------------------------------------
    S(
        "uk-to-eea-adequacy",
        "UK rules: the EEA is adequate for UK-origin data.",
        facts("GB", "DE", exporter=UK_EXP, importer=party("Acme GmbH", "DE", "processor")),
        basis="adequacy",
        mechanism_key="uk-adequacy-EEA",
    ),
    S(
        "uk-to-us-data-bridge",
        "UK rules: the UK-US data bridge covers importers in the UK Extension.",
        facts(
            "GB",
            "US",
            exporter=UK_EXP,
            importer=party(
                "Cloudy Inc",
                "US",
                "processor",
                certs=[p.CERT_EU_US_DPF, p.CERT_UK_US_DATA_BRIDGE],
            ),
        ),
        basis="adequacy",
        mechanism_key="uk-adequacy-US",
    ),
    S(
        "uk-to-us-eu-dpf-only",
        # Data Protection (Adequacy) (United States of America) Regulations 2023: only
        # organisations in the UK Extension. The EU-US certification alone says nothing of it.
        "UK rules: EU-US DPF certification alone does not show the UK Extension; confirm it.",
        facts("GB", "US", exporter=UK_EXP),
        basis="adequacy",
        mechanism_key="uk-adequacy-US",
        codes={"ADEQUACY_SCOPE_UNCONFIRMED": "condition"},
    ),
    S(
        "uk-to-us-stated-not-in-uk-extension",
        # Same regulations: a stated "not in the UK Extension" is outside the scope.
        "UK rules: an importer stated not to be in the UK Extension is outside the data bridge.",
        facts(
            "GB",
            "US",
            exporter=UK_EXP,
            importer=party(
                "Cloudy Inc",
                "US",
                "processor",
                certs=[p.CERT_EU_US_DPF],
                scope={p.CERT_UK_US_DATA_BRIDGE: False},
            ),
        ),
        allowed=False,
        codes={"ADEQUACY_SCOPE_NOT_MET": "blocking"},
    ),
    S(
        "uk-to-kr-before-uk-regulations",
        "UK rules: Korea became adequate for the UK only on 2022-12-19.",
        facts("GB", "KR", exporter=UK_EXP, importer=party("Hangang Co", "KR", "processor")),
        on=date(2022, 6, 1),
        allowed=False,
        codes={"MECHANISM_NOT_YET_VALID": "blocking"},
    ),
    S(
        "uk-to-in-idta",
        "UK rules: the IDTA is a basis for UK-origin data.",
        facts("GB", "IN", exporter=UK_EXP, importer=INDIA),
        [*REFERENCE, uk_contract(p.IDTA)],
        basis="idta",
        codes={"IDTA_IN_FORCE": "info"},
    ),
    S(
        "uk-to-in-idta-without-tra",
        "UK rules: the IDTA also needs a transfer risk assessment.",
        facts("GB", "IN", exporter=UK_EXP, importer=INDIA),
        [uk_contract(p.IDTA, tia=None)],
        allowed=False,
        codes={"TIA_MISSING": "blocking"},
    ),
    S(
        "uk-to-in-addendum",
        "UK rules: the UK Addendum to the EU SCCs is a basis.",
        facts("GB", "IN", exporter=UK_EXP, importer=INDIA),
        [uk_contract(p.UKAddendum)],
        basis="uk_addendum",
        codes={"UK_ADDENDUM_IN_FORCE": "info"},
    ),
    S(
        "uk-addendum-module-mismatch",
        "UK rules: the Addendum's SCC module must match the roles too.",
        facts("GB", "IN", exporter=UK_EXP, importer=INDIA),
        [uk_contract(p.UKAddendum, module=1)],
        allowed=False,
        codes={"SCC_MODULE_MISMATCH": "blocking"},
    ),
    S(
        "uk-eu-scc-alone-not-enough",
        "UK rules: EU SCCs without the UK Addendum do not cover UK-origin data.",
        facts("GB", "IN", exporter=UK_EXP, importer=INDIA),
        [scc(exporter=UK_EXP, importer=INDIA)],
        allowed=False,
        codes={"SCC_NEEDS_UK_ADDENDUM": "blocking"},
        absent=("SCC_IN_FORCE",),
    ),
    S(
        "uk-idta-before-addendum",
        "UK rules: the IDTA is tried before the UK Addendum.",
        facts("GB", "IN", exporter=UK_EXP, importer=INDIA),
        [uk_contract(p.UKAddendum), uk_contract(p.IDTA)],
        basis="idta",
    ),
    S(
        "uk-eu-bcr-not-applicable",
        "UK rules: BCRs approved in the EEA do not by themselves cover UK-origin data.",
        facts("GB", "US", exporter=UK_EXP, importer=party("Albion Inc", "US", "controller")),
        [bcr(members=(UK_EXP, party("Albion Inc", "US", "controller")))],
        allowed=False,
        codes={"NO_BASIS": "blocking"},
        absent=("BCR_COVERS",),
    ),
    # --- Swiss origin ---------------------------------------------------------------------
    S(
        "ch-to-us-swiss-dpf",
        "Swiss rules: the Swiss-US DPF covers certified importers.",
        facts(
            "CH",
            "US",
            exporter=CH_EXP,
            importer=party("Cloudy Inc", "US", "processor", certs=[p.CERT_SWISS_US_DPF]),
        ),
        basis="adequacy",
        mechanism_key="ch-adequacy-US",
    ),
    S(
        "ch-to-us-before-swiss-dpf",
        "Swiss rules: the Swiss-US DPF applies only from 2024-09-15.",
        facts(
            "CH",
            "US",
            exporter=CH_EXP,
            importer=party("Cloudy Inc", "US", "processor", certs=[p.CERT_SWISS_US_DPF]),
        ),
        on=date(2024, 6, 1),
        allowed=False,
        codes={"MECHANISM_NOT_YET_VALID": "blocking"},
    ),
    S(
        "ch-to-us-eu-dpf-only",
        # DPO Annex 1 (Swiss-US DPF, from 2024-09-15): the Swiss-US certification is its own.
        "Swiss rules: an EU-US DPF certification does not show the Swiss-US one; confirm it.",
        facts("CH", "US", exporter=CH_EXP),
        basis="adequacy",
        mechanism_key="ch-adequacy-US",
        codes={"ADEQUACY_SCOPE_UNCONFIRMED": "condition"},
    ),
    S(
        "ch-to-jp-not-on-swiss-list",
        "Swiss rules: Japan is not on the Swiss list, although the EU found it adequate.",
        facts(
            "CH",
            "JP",
            exporter=CH_EXP,
            importer=party("Sakura KK", "JP", "processor", hints=[p.HINT_COMMERCIAL]),
        ),
        allowed=False,
        codes={"NO_BASIS": "blocking"},
    ),
    S(
        "ch-to-jp-scc-with-swiss-adaptation",
        "Swiss rules: EU SCCs work for Swiss-origin data with the FDPIC's adaptations.",
        facts("CH", "JP", exporter=CH_EXP, importer=party("Sakura KK", "JP", "processor")),
        [*REFERENCE, scc(exporter=CH_EXP, importer=party("Sakura KK", "JP", "processor"))],
        basis="scc",
        codes={"SCC_SWISS_ADAPTATION": "info"},
    ),
    S(
        "ch-to-de",
        "Swiss rules: the EEA is adequate for Swiss-origin data.",
        facts("CH", "DE", exporter=CH_EXP, importer=party("Acme GmbH", "DE", "processor")),
        basis="adequacy",
        mechanism_key="ch-adequacy-EEA",
    ),
    # --- other origins and bookkeeping -------------------------------------------------------
    S(
        "us-origin-not-modelled",
        "Origins other than the EEA, UK and Switzerland are flagged, and need a contract.",
        facts("US", "DE", exporter=CLOUDY_CTRL, importer=party("Acme GmbH", "DE", "processor")),
        allowed=False,
        codes={"ORIGIN_REGIME_NOT_MODELLED": "warning", "NO_BASIS": "blocking"},
    ),
    S(
        "us-origin-with-contract",
        "For an unmodelled origin a recorded contract between the parties is accepted.",
        facts("US", "DE", exporter=CLOUDY_CTRL, importer=party("Acme GmbH", "DE", "processor")),
        [scc(2, exporter=CLOUDY_CTRL, importer=party("Acme GmbH", "DE", "processor"))],
        basis="scc",
        codes={"ORIGIN_REGIME_NOT_MODELLED": "warning"},
    ),
    S(
        "chosen-mechanism-not-used",
        "When the requester chose a later basis, the engine says which one it relied on.",
        facts(chosen="scc-1"),
        [*REFERENCE, scc(importer=CLOUDY_DPF)],
        basis="adequacy",
        codes={"CHOSEN_MECHANISM_NOT_USED": "info"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_scenario(case: Case):
    decision = p.evaluate(case.facts, case.mechanisms, case.on)
    found = {f.code: f.severity for f in decision.findings}
    context = f"rule: {case.rule}\nfindings: {found}"
    assert decision.transfer is case.transfer, context
    assert decision.allowed is case.allowed, context
    assert decision.basis == (case.basis if case.allowed else None), context
    if case.mechanism_key:
        assert decision.mechanism is not None and decision.mechanism.key == case.mechanism_key
    for code, severity in case.codes.items():
        assert code in found, context
        if severity:
            assert found[code] == severity, context
    for code in case.absent:
        assert code not in found, context
    # Invariants that hold for every decision.
    assert decision.allowed == (not decision.blocking), context
    assert all(f.message and f.severity in p.SEVERITIES for f in decision.findings)
    if not decision.allowed:
        assert decision.codes[-1] in ("NO_BASIS", "ONWARD_TRANSFER_BLOCKED")
    json.dumps(decision.as_dict())


def test_at_least_forty_scenarios_with_unique_ids():
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


def test_all_eight_derogations_are_known():
    assert set(p.DEROGATIONS) == {
        "explicit_consent",
        "contract_with_data_subject",
        "contract_in_data_subject_interest",
        "important_public_interest",
        "legal_claims",
        "vital_interests",
        "public_register",
        "compelling_legitimate_interests",
    }
    for key in p.DEROGATIONS:
        d = p.evaluate(
            facts(dst="IN", importer=INDIA, freq="one_off", derogation=key), REFERENCE, ON
        )
        assert d.basis == "derogation", key


def test_facts_reject_unknown_values():
    with pytest.raises(ValueError):
        party("X", "DE", "joint_controller")
    with pytest.raises(ValueError):
        facts(freq="weekly")
    with pytest.raises(ValueError):
        facts(derogation="because_we_can")


def test_sequence_and_prebuilt_set_agree():
    f = facts(importer=CLOUDY)
    mechanisms = [*REFERENCE, scc()]
    a = p.evaluate(f, mechanisms, ON)
    b = p.evaluate(f, p.MechanismSet(mechanisms), ON)
    assert a == b


def test_reference_data_has_thirty_eea_states_and_flags_unverified_entries():
    assert len(ref.EEA_COUNTRIES) == 30
    unverified = {e["key"] for e in ref.ADEQUACY_DECISIONS if not e["verified"]}
    assert {"eu-adequacy-BR", "eu-adequacy-GG", "eu-adequacy-EPO"} <= unverified
    assert all(e["source"] for e in ref.ADEQUACY_DECISIONS)
    keys = [e["key"] for e in ref.ADEQUACY_DECISIONS]
    assert len(keys) == len(set(keys))
