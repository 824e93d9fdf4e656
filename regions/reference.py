"""Reference data shipped with the code: jurisdictions, ISO 3166-1 countries, data categories.

Loaded by a data migration, so every database (tests included) has it. Functions take
the model classes so the migration can pass its historical models.
"""

import pycountry

EEA_STATES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "  # EU 27
    "IS LI NO".split()  # EEA EFTA states
)

# Jurisdictions with a named law. Every other country is a jurisdiction of its own.
NAMED_JURISDICTIONS = {
    "EEA": ("European Economic Area", "GDPR (Regulation (EU) 2016/679)"),
    "GB": ("United Kingdom", "UK GDPR and the Data Protection Act 2018"),
    "CH": ("Switzerland", "Federal Act on Data Protection (revised FADP, in force 2023-09-01)"),
    "US": (
        "United States",
        "No federal omnibus law: sectoral federal laws and state laws (e.g. CCPA/CPRA)",
    ),
    "CA": ("Canada", "PIPEDA"),
    "JP": ("Japan", "Act on the Protection of Personal Information (APPI)"),
    "KR": ("Republic of Korea", "Personal Information Protection Act (PIPA)"),
    "BR": ("Brazil", "Lei Geral de Proteção de Dados (LGPD)"),
    "IN": ("India", "Digital Personal Data Protection Act 2023"),
    "CN": ("China", "Personal Information Protection Law (PIPL)"),
    "AR": ("Argentina", "Personal Data Protection Law 25.326"),
    "IL": ("Israel", "Protection of Privacy Law 5741-1981"),
    "NZ": ("New Zealand", "Privacy Act 2020"),
    "UY": ("Uruguay", "Law 18.331 on personal data protection"),
    "AU": ("Australia", "Privacy Act 1988"),
    "SG": ("Singapore", "Personal Data Protection Act 2012"),
}

# GDPR Art. 9 special categories as the fideslang taxonomy names them (prefixes).
SPECIAL_CATEGORY_PREFIXES = (
    "user.biometric",
    "user.authorization.biometric",
    "user.health_and_medical",
    "user.demographic.race_ethnicity",
    "user.demographic.religious_belief",
    "user.demographic.political_opinion",
    "user.demographic.sexual_orientation",
    "user.demographic.union_membership",
)
CRIMINAL_OFFENCE_PREFIXES = ("user.criminal_history",)

# Art. 9 names trade-union membership; this fideslang release has no key for it, so we add one.
EXTRA_CATEGORIES = [
    (
        "user.demographic.union_membership",
        "Trade Union Membership",
        "Whether the person belongs to a trade union (GDPR Art. 9).",
        "user.demographic",
    ),
]


def jurisdiction_code_for(country_code: str) -> str:
    """``DE`` -> ``EEA``; any other country is its own jurisdiction (``US`` -> ``US``)."""
    country_code = country_code.upper()
    return "EEA" if country_code in EEA_STATES else country_code


def _matches(key: str, prefixes) -> bool:
    return any(key == prefix or key.startswith(prefix + ".") for prefix in prefixes)


def load_reference_data(Jurisdiction, Country, DataCategory) -> None:
    countries = sorted(pycountry.countries, key=lambda c: c.alpha_2)
    jurisdictions = {}
    for code, (name, law) in NAMED_JURISDICTIONS.items():
        jurisdictions[code] = Jurisdiction.objects.update_or_create(
            code=code, defaults={"name": name, "law": law}
        )[0]
    for country in countries:
        code = jurisdiction_code_for(country.alpha_2)
        if code not in jurisdictions:
            name = getattr(country, "common_name", None) or country.name
            jurisdictions[code] = Jurisdiction.objects.update_or_create(
                code=code, defaults={"name": name, "law": f"National data-protection law of {name}"}
            )[0]
    for country in countries:
        Country.objects.update_or_create(
            code=country.alpha_2,
            defaults={
                "name": getattr(country, "common_name", None) or country.name,
                "jurisdiction": jurisdictions[jurisdiction_code_for(country.alpha_2)],
            },
        )
    load_data_categories(DataCategory)


def load_data_categories(DataCategory) -> None:
    from fideslang.default_taxonomy import DEFAULT_TAXONOMY

    rows = [
        (c.fides_key, c.name, c.description or "", c.parent_key)
        for c in DEFAULT_TAXONOMY.data_category
    ] + EXTRA_CATEGORIES
    rows.sort(key=lambda row: row[0].count("."))  # parents before children
    by_key = {}
    for key, name, description, parent_key in rows:
        by_key[key] = DataCategory.objects.update_or_create(
            key=key,
            defaults={
                "name": name,
                "description": description,
                "parent": by_key.get(parent_key),
                "is_special_category": _matches(key, SPECIAL_CATEGORY_PREFIXES),
                "is_criminal_offence_data": _matches(key, CRIMINAL_OFFENCE_PREFIXES),
            },
        )[0]
