"""Reference facts for the transfer register, as plain data (no Django).

Adequacy decisions of the EU, the UK and Switzerland, the historic EU-US Privacy Shield, the
Art. 49 derogations and the modules of the 2021 SCCs. The data migration loads these into the
database; tests and the benchmark turn them into policy dataclasses with
``adequacy_mechanisms()``.

Every adequacy entry has a ``source`` and a ``verified`` flag: ``verified=False`` marks a fact
that rests on a single secondary source (or on an assumption stated in ``notes``), so that a DPO
can see it needs checking before relying on it. Descriptions are our own words.
"""

from __future__ import annotations

from datetime import date

from regions.reference import EEA_STATES, jurisdiction_code_for

from . import policy as p

# The EEA list and the country -> jurisdiction rule have one home: regions.reference (the same
# rule the Country table is loaded with). Re-exported here for code with no database at hand.
EEA_COUNTRIES = EEA_STATES
jurisdiction_of = jurisdiction_code_for


EU_SOURCE = "European Commission, list of adequacy decisions (checked late 2026)"
UK_SOURCE = "UK GDPR Art. 45 and DPA 2018 Sch. 21; ICO guidance on adequacy"
CH_SOURCE = "Swiss Data Protection Ordinance (DPO), Annex 1; FDPIC"
CH_LIST_SOURCE = (
    "Federal Office of Justice, 'Recognition by Switzerland of States that guarantee an "
    "adequate level of data protection' (bj.admin.ch), reproducing DPO Annex 1"
)

FULL = "the whole country"


def _adequacy(
    *,
    key,
    from_jurisdiction,
    name,
    reference,
    adopted,
    source,
    to_country=None,
    to_jurisdiction=None,
    to_organisation=None,
    scope=FULL,
    partial=False,
    requires_certification=None,
    requires_hints=(),
    excluded_hints=(),
    ends_on=None,
    status=p.IN_FORCE,
    status_reason="",
    review_on=None,
    verified=True,
    notes="",
):
    return {
        "key": key,
        "from_jurisdiction": from_jurisdiction,
        "to_country": to_country,
        "to_jurisdiction": to_jurisdiction,
        "to_organisation": to_organisation,
        "name": name,
        "reference": reference,
        "valid_from": adopted,
        "ends_on": ends_on,
        "status": status,
        "status_reason": status_reason,
        "review_on": review_on,
        "scope": scope,
        "partial": partial,
        "requires_certification": requires_certification,
        "requires_hints": tuple(requires_hints),
        "excluded_hints": tuple(excluded_hints),
        "source": source,
        "verified": verified,
        "notes": notes,
    }


def _eu(country, name, reference, adopted, **kw):
    kw.setdefault("source", EU_SOURCE)
    return _adequacy(
        key=f"eu-adequacy-{country}",
        from_jurisdiction="EEA",
        to_country=country,
        name=f"EU adequacy: {name}",
        reference=reference,
        adopted=adopted,
        **kw,
    )


EU_ADEQUACY = [
    _eu("AD", "Andorra", "Decision 2010/625/EU", date(2010, 10, 19)),
    _eu("AR", "Argentina", "Decision 2003/490/EC", date(2003, 6, 30)),
    _eu(
        "BR",
        "Brazil",
        "C(2026) 373",
        date(2026, 1, 26),
        scope="recipients subject to Brazil's LGPD",
        partial=True,
        requires_hints=[p.HINT_LGPD],
        verified=False,
        notes="Decision reference and date from a single secondary source.",
    ),
    _eu(
        "CA",
        "Canada",
        "Decision 2002/2/EC",
        date(2001, 12, 20),
        scope="organisations subject to PIPEDA (personal information handled in commercial "
        "activities)",
        partial=True,
        requires_hints=[p.HINT_COMMERCIAL],
        excluded_hints=[p.HINT_PUBLIC_AUTHORITY],
    ),
    _eu("CH", "Switzerland", "Decision 2000/518/EC", date(2000, 7, 26)),
    _eu(
        "FO",
        "Faroe Islands",
        "Decision 2010/146/EU",
        date(2010, 3, 5),
        scope="recipients subject to the Faroese data protection act",
        partial=True,
        requires_hints=[p.HINT_FAROESE_ACT],
    ),
    _eu(
        "GB",
        "United Kingdom",
        "Implementing Decision (EU) 2021/1772",
        date(2021, 6, 28),
        ends_on=date(2031, 12, 27),
        notes="Renewed on 2025-12-19; the renewal runs until 2031-12-27.",
    ),
    _eu(
        "GG",
        "Guernsey",
        "Decision 2003/821/EC",
        date(2003, 11, 21),
        verified=False,
        notes="Adoption date from a single secondary source.",
    ),
    _eu(
        "IL",
        "Israel",
        "Decision 2011/61/EU",
        date(2011, 1, 31),
        scope="automated international transfers, or manual ones processed automatically in Israel",
        partial=True,
        requires_hints=[p.HINT_AUTOMATED],
    ),
    _eu("IM", "Isle of Man", "Decision 2004/411/EC", date(2004, 4, 28)),
    _eu("JE", "Jersey", "Decision 2008/393/EC", date(2008, 5, 8)),
    _eu(
        "JP",
        "Japan",
        "Implementing Decision (EU) 2019/419",
        date(2019, 1, 23),
        scope="personal information handling business operators under Japan's APPI (the "
        "private sector, profit or not), with the Supplementary Rules",
        partial=True,
        requires_hints=[p.HINT_APPI_OPERATOR],
        excluded_hints=[p.HINT_PUBLIC_AUTHORITY],
        notes="'Commercial' is Canada's test, not Japan's: a non-profit APPI business operator "
        "is covered; public bodies are not.",
    ),
    _eu(
        "KR",
        "Republic of Korea",
        "Implementing Decision (EU) 2022/254",
        date(2021, 12, 17),
        scope="recipients subject to Korea's PIPA, except credit information processed by "
        "entities the Financial Services Commission supervises",
        partial=True,
        requires_hints=[p.HINT_PIPA],
        excluded_hints=[p.HINT_FSC_CREDIT],
    ),
    _eu("NZ", "New Zealand", "Decision 2013/65/EU", date(2012, 12, 19)),
    _eu(
        "US",
        "United States (EU-US Data Privacy Framework)",
        "Implementing Decision (EU) 2023/1795",
        date(2023, 7, 10),
        scope="organisations on the EU-US Data Privacy Framework list",
        partial=True,
        requires_certification=p.CERT_EU_US_DPF,
    ),
    _eu("UY", "Uruguay", "Decision 2012/484/EU", date(2012, 8, 21)),
    _adequacy(
        key="eu-adequacy-EPO",
        from_jurisdiction="EEA",
        to_organisation="European Patent Organisation",
        name="EU adequacy: European Patent Organisation",
        reference="C(2025) 4626",
        adopted=date(2025, 7, 15),
        source=EU_SOURCE,
        scope="the European Patent Organisation (an international organisation)",
        verified=False,
        notes="Decision reference from a single secondary source. Matched by name: record the "
        "importer as the European Patent Organisation, an international organisation.",
    ),
]

# History: invalidated by the CJEU in Schrems II (C-311/18). Kept so that a date before the
# judgment evaluates as it did then, and so that "ending a mechanism" has a real precedent.
PRIVACY_SHIELD = _adequacy(
    key="eu-us-privacy-shield",
    from_jurisdiction="EEA",
    to_country="US",
    name="EU-US Privacy Shield",
    reference="Implementing Decision (EU) 2016/1250",
    adopted=date(2016, 7, 12),
    ends_on=date(2020, 7, 16),
    status=p.INVALIDATED,
    status_reason="by the Court of Justice of the EU in Schrems II, C-311/18",
    source=EU_SOURCE + "; CJEU C-311/18 (Schrems II)",
    scope="organisations self-certified under the Privacy Shield",
    partial=True,
    requires_certification=p.CERT_EU_US_PRIVACY_SHIELD,
    notes="Invalidated by the Court of Justice on 2020-07-16 (Schrems II); every transfer "
    "relying on it needed another basis from that day.",
)

UK_TRANSITIONAL = date(2021, 1, 1)


def _uk(country, name, adopted=UK_TRANSITIONAL, reference=None, **kw):
    kw.setdefault("source", UK_SOURCE)
    return _adequacy(
        key=f"uk-adequacy-{country}",
        from_jurisdiction="GB",
        to_country=country,
        name=f"UK adequacy: {name}",
        reference=reference or "DPA 2018 Sch. 21 para. 5 (adequacy carried over from the EU)",
        adopted=adopted,
        **kw,
    )


UK_ADEQUACY = [
    _adequacy(
        key="uk-adequacy-EEA",
        from_jurisdiction="GB",
        to_jurisdiction="EEA",
        name="UK adequacy: EU and EEA states",
        reference="DPA 2018 Sch. 21 para. 4",
        adopted=UK_TRANSITIONAL,
        source=UK_SOURCE,
    ),
    _uk("GI", "Gibraltar", reference="DPA 2018 Sch. 21 para. 4"),
    _uk("AD", "Andorra"),
    _uk("AR", "Argentina"),
    _uk(
        "CA",
        "Canada",
        scope="organisations subject to PIPEDA (personal information handled in commercial "
        "activities)",
        partial=True,
        requires_hints=[p.HINT_COMMERCIAL],
        excluded_hints=[p.HINT_PUBLIC_AUTHORITY],
    ),
    _uk("CH", "Switzerland"),
    _uk(
        "FO",
        "Faroe Islands",
        scope="recipients subject to the Faroese data protection act",
        partial=True,
        requires_hints=[p.HINT_FAROESE_ACT],
    ),
    _uk("GG", "Guernsey"),
    _uk(
        "IL",
        "Israel",
        scope="automated transfers, or manual ones processed automatically in Israel",
        partial=True,
        requires_hints=[p.HINT_AUTOMATED],
    ),
    _uk("IM", "Isle of Man"),
    _uk("JE", "Jersey"),
    _uk(
        "JP",
        "Japan",
        scope="personal information handling business operators under Japan's APPI (the "
        "private sector, profit or not)",
        partial=True,
        requires_hints=[p.HINT_APPI_OPERATOR],
        excluded_hints=[p.HINT_PUBLIC_AUTHORITY],
    ),
    _uk("NZ", "New Zealand"),
    _uk("UY", "Uruguay"),
    _uk(
        "KR",
        "Republic of Korea",
        adopted=date(2022, 12, 19),
        reference="The Data Protection (Adequacy) (Republic of Korea) Regulations 2022 "
        "(SI 2022/1213)",
        scope="recipients subject to Korea's PIPA (credit information included)",
        partial=True,
        requires_hints=[p.HINT_PIPA],
        source="legislation.gov.uk/uksi/2022/1213, reg. 2",
        notes="Unlike the EU decision, the UK regulations have no exclusion for credit "
        "information processed by FSC-supervised entities.",
    ),
    _uk(
        "US",
        "United States (UK-US data bridge)",
        adopted=date(2023, 10, 12),
        reference="The Data Protection (Adequacy) (United States of America) Regulations 2023",
        scope="US organisations on the DPF list that joined the UK Extension",
        partial=True,
        requires_certification=p.CERT_UK_US_DATA_BRIDGE,
    ),
]

SWISS_FADP = date(2023, 9, 1)


def _ch(country, name, adopted=SWISS_FADP, **kw):
    kw.setdefault("source", CH_SOURCE)
    return _adequacy(
        key=f"ch-adequacy-{country}",
        from_jurisdiction="CH",
        to_country=country,
        name=f"Swiss adequacy: {name}",
        reference=kw.pop("reference", "DPO Annex 1"),
        adopted=adopted,
        **kw,
    )


CH_ADEQUACY = [
    _adequacy(
        key="ch-adequacy-EEA",
        from_jurisdiction="CH",
        to_jurisdiction="EEA",
        name="Swiss adequacy: EU and EEA states",
        reference="DPO Annex 1",
        adopted=SWISS_FADP,
        source=CH_SOURCE,
        notes="Modelled from the revised FADP (2023-09-01); the earlier FDPIC list is not.",
    ),
    _ch("AD", "Andorra"),
    _ch("AR", "Argentina"),
    _ch(
        "CA",
        "Canada",
        scope="the private sector where PIPEDA (or a substantially similar provincial act) applies",
        partial=True,
        requires_hints=[p.HINT_COMMERCIAL],
        excluded_hints=[p.HINT_PUBLIC_AUTHORITY],
        source=CH_LIST_SOURCE,
    ),
    _ch("FO", "Faroe Islands"),
    _ch("GI", "Gibraltar"),
    _ch("GG", "Guernsey"),
    _ch("IM", "Isle of Man"),
    _ch("IL", "Israel"),
    _ch("JE", "Jersey"),
    _ch("MC", "Monaco"),
    _ch("NZ", "New Zealand"),
    _ch("GB", "United Kingdom"),
    _ch("UY", "Uruguay"),
    _ch(
        "US",
        "United States (Swiss-US Data Privacy Framework)",
        adopted=date(2024, 9, 15),
        reference="DPO Annex 1 (Swiss-US DPF)",
        scope="US organisations certified under the Swiss-US Data Privacy Framework",
        partial=True,
        requires_certification=p.CERT_SWISS_US_DPF,
    ),
]

ADEQUACY_DECISIONS = [*EU_ADEQUACY, PRIVACY_SHIELD, *UK_ADEQUACY, *CH_ADEQUACY]

# Art. 49 grounds, with the limit a DPO should check (EDPB Guidelines 2/2018). "Occasional"
# (Recital 111) binds consent, the two contract grounds and legal claims; the second
# subparagraph needs "not repetitive"; (d), (f) and (g) carry no frequency limit.
DEROGATIONS = [
    {
        "key": "explicit_consent",
        "reference": "Art. 49(1)(a)",
        "label": "Explicit consent",
        "limit": "The person was told of the risks of a transfer without safeguards and agreed "
        "explicitly; occasional transfers. Not available to public authorities using public "
        "powers.",
    },
    {
        "key": "contract_with_data_subject",
        "reference": "Art. 49(1)(b)",
        "label": "Contract with the data subject",
        "limit": "The transfer is necessary to perform a contract with the person, or steps "
        "they asked for before one; occasional only.",
    },
    {
        "key": "contract_in_data_subject_interest",
        "reference": "Art. 49(1)(c)",
        "label": "Contract in the data subject's interest",
        "limit": "Necessary for a contract made with someone else in the person's interest; "
        "occasional only.",
    },
    {
        "key": "important_public_interest",
        "reference": "Art. 49(1)(d)",
        "label": "Important public interest",
        "limit": "Necessary for a public interest recognised by EU or member-state law; not "
        "limited to occasional transfers.",
    },
    {
        "key": "legal_claims",
        "reference": "Art. 49(1)(e)",
        "label": "Legal claims",
        "limit": "Necessary to establish, exercise or defend legal claims; occasional only.",
    },
    {
        "key": "vital_interests",
        "reference": "Art. 49(1)(f)",
        "label": "Vital interests",
        "limit": "Protects someone's life or health when the person cannot consent; not limited "
        "to occasional transfers.",
    },
    {
        "key": "public_register",
        "reference": "Art. 49(1)(g)",
        "label": "Public register",
        "limit": "Taken from a register open to the public, within the conditions for "
        "consulting it; never the whole register.",
    },
    {
        "key": "compelling_legitimate_interests",
        "reference": "Art. 49(1), second subparagraph",
        "label": "Compelling legitimate interests",
        "limit": "Not repetitive, few people concerned, safeguards assessed and documented; "
        "the supervisory authority and the people concerned are informed. Not for public "
        "authorities using public powers.",
    },
]
assert {d["key"] for d in DEROGATIONS} == set(p.DEROGATIONS)

SCC_MODULES = {
    1: "Module 1: controller to controller",
    2: "Module 2: controller to processor",
    3: "Module 3: processor to processor (sub-processing)",
    4: "Module 4: processor back to its controller",
}

# The six steps of EDPB Recommendations 01/2020, for the TIA help text.
TIA_STEPS = [
    "Map the transfers, including onward transfers.",
    "Identify the transfer tool relied on.",
    "Assess whether the destination's law and practice undermine that tool.",
    "Adopt supplementary measures where they do.",
    "Take any procedural steps those measures need.",
    "Re-evaluate at appropriate intervals.",
]


def adequacy_mechanisms(entries=None) -> list[p.AdequacyDecision]:
    """The reference adequacy decisions as policy dataclasses."""
    out = []
    for e in ADEQUACY_DECISIONS if entries is None else entries:
        out.append(
            p.AdequacyDecision(
                key=e["key"],
                name=e["name"],
                reference=e["reference"],
                status=e["status"],
                valid_from=e["valid_from"],
                ends_on=e["ends_on"],
                review_on=e["review_on"],
                status_reason=e["status_reason"],
                from_jurisdiction=e["from_jurisdiction"],
                to_country=e["to_country"],
                to_jurisdiction=e["to_jurisdiction"],
                to_organisation=e["to_organisation"],
                scope=e["scope"],
                partial=e["partial"],
                requires_certification=e["requires_certification"],
                requires_hints=frozenset(e["requires_hints"]),
                excluded_hints=frozenset(e["excluded_hints"]),
            )
        )
    return out


def load_reference_mechanisms(Mechanism, Jurisdiction, Country, *, save=None) -> int:
    """Create or update the reference adequacy decisions. Idempotent; returns the number of
    rows written.

    Takes model classes so that the data migration can pass its historical models (the
    baseline every database starts from). Anywhere else rows go through ``save(row)``, which
    is ``services.mechanism_save`` (audit event with a diff, dependents re-evaluated): use
    ``services.reference_mechanisms_sync()``.
    """
    historical = Mechanism.__module__ == "__fake__"
    if save is None and not historical:
        raise TypeError(
            "Mechanism rows change only through services.mechanism_save: "
            "call services.reference_mechanisms_sync()."
        )
    jurisdictions = {j.code: j for j in Jurisdiction.objects.all()}
    countries = {c.code: c for c in Country.objects.all()}
    written = 0
    for e in ADEQUACY_DECISIONS:
        values = {
            "kind": p.KIND_ADEQUACY,
            "name": e["name"],
            "reference": e["reference"],
            "status": e["status"],
            "valid_from": e["valid_from"],
            "ends_on": e["ends_on"],
            "review_on": e["review_on"],
            "source": e["source"],
            "verified": e["verified"],
            "notes": e["notes"],
            "from_jurisdiction": jurisdictions.get(e["from_jurisdiction"]),
            "to_country": countries.get(e["to_country"]) if e["to_country"] else None,
            "to_jurisdiction": jurisdictions.get(e["to_jurisdiction"])
            if e["to_jurisdiction"]
            else None,
            "to_organisation": e["to_organisation"] or "",
            "scope": e["scope"],
            "partial": e["partial"],
            "requires_certification": e["requires_certification"] or "",
            "requires_hints": list(e["requires_hints"]),
            "excluded_hints": list(e["excluded_hints"]),
        }
        if values["from_jurisdiction"] is None:
            continue  # jurisdictions not loaded (a flushed test database)
        if len(values["status"]) > Mechanism._meta.get_field("status").max_length:
            values["status"] = p.REVOKED  # an early migration's table; a later one corrects it
        row = Mechanism.objects.filter(key=e["key"]).first()
        if row is None:
            if save is None:
                Mechanism.objects.create(key=e["key"], status_reason=e["status_reason"], **values)
            else:
                save(Mechanism(key=e["key"], status_reason=e["status_reason"], **values))
            written += 1
            continue
        # Status and end date belong to the DPOs once the row exists (they may end it).
        changed = [
            k for k, v in values.items() if k not in ("status", "ends_on") and getattr(row, k) != v
        ]
        if changed:
            for k in changed:
                setattr(row, k, values[k])
            if save is None:
                row.save()
            else:
                save(row)
            written += 1
    return written
