"""The ingestion router: pure, metadata only, default deny."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.protocol import MalformedError
from agents.router import category_covers, route

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def rule(position, home, store=None, **conditions):
    return {"position": position, "home_jurisdiction": home, "data_store": store, **conditions}


CONTENT = {
    "region": {"slug": "eu-central", "jurisdiction": "EEA"},
    "special_categories": ["user.health", "user.biometric"],
    "residency_rules": [
        rule(5, "EEA", "events", contract_tag="telemetry"),
        rule(1, "GB", subject_country="GB"),
        rule(2, "CH", contract_tag="swiss-bank", subject_country="CH"),
        rule(3, "US", subject_country="US"),
        rule(4, "EEA", "health", data_category="user.health"),
        rule(6, "EEA", "customers"),
    ],
    "data_stores": [
        {"name": "health", "retention_days": 3650},
        {"name": "customers", "retention_days": 30},
        {"name": "events", "retention_days": 7},
    ],
    "transfers": [
        {
            "id": "T-1",
            "status": "active",
            "from_jurisdiction": "US",
            "to_jurisdiction": "EEA",
            "categories": ["user.contact"],
            "valid_until": "2026-06-01T00:00:00Z",
        },
        {
            "id": "T-2",
            "status": "suspended",
            "from_jurisdiction": "GB",
            "to_jurisdiction": "EEA",
            "categories": ["user"],
        },
    ],
}


def test_local_record_lands_in_the_rules_store_with_tags():
    meta = {"subject_country": "DE", "data_categories": ["user.contact.email"]}
    d = route(meta, CONTENT, now=NOW)
    assert d.accepted and d.home_jurisdiction == "EEA" and d.data_store == "customers"
    assert d.rule == 6
    assert {"home:EEA", "region:eu-central", "store:customers", "retention:30d"} <= set(d.tags)


def test_rules_apply_in_position_order_and_all_conditions_must_hold():
    meta = {"subject_country": "DE", "data_categories": ["user.health.genetic"]}
    d = route(meta, CONTENT, now=NOW)
    assert d.accepted and d.rule == 4 and d.data_store == "health"
    assert "special-category" in d.tags
    d = route({"subject_country": "CH", "contract_tags": ["swiss-bank"]}, CONTENT, now=NOW)
    assert (d.accepted, d.code, d.home_jurisdiction) == (False, "home_elsewhere", "CH")
    # CH without the tag does not match rule 2 and falls through to the catch-all.
    d = route({"subject_country": "CH"}, CONTENT, now=NOW)
    assert (d.accepted, d.rule) == (True, 6)


def test_default_deny_when_no_rule_matches():
    content = {**CONTENT, "residency_rules": CONTENT["residency_rules"][:-1]}
    d = route({"subject_country": "FR", "data_categories": ["user.contact"]}, content, now=NOW)
    assert (d.accepted, d.code) == (False, "no_rule")
    assert route({}, CONTENT, now=NOW).code == "no_metadata"
    assert route({"subject_country": "DE"}, {"region": {}}, now=NOW).code == "no_rule"


def test_record_from_elsewhere_needs_an_active_covering_transfer():
    covered = {"subject_country": "US", "data_categories": ["user.contact.email"]}
    d = route(covered, CONTENT, now=NOW)
    assert d.accepted and d.transfer == "T-1" and "transfer:T-1" in d.tags
    assert d.home_jurisdiction == "US" and d.data_store == "customers"
    wider = {"subject_country": "US", "data_categories": ["user.contact.email", "user.location"]}
    assert route(wider, CONTENT, now=NOW).code == "home_elsewhere"
    later = datetime(2026, 7, 1, tzinfo=UTC)
    assert route(covered, CONTENT, now=later).code == "home_elsewhere"
    suspended = {"subject_country": "GB", "data_categories": ["user.contact"]}
    assert route(suspended, CONTENT, now=NOW).code == "home_elsewhere"


def test_rule_without_store_means_refusal():
    content = {**CONTENT, "residency_rules": [rule(1, "EEA", None)]}
    d = route({"subject_country": "DE", "data_categories": ["user.contact"]}, content, now=NOW)
    assert (d.accepted, d.code) == (False, "no_store")


def test_metadata_only_unknown_fields_are_refused():
    with pytest.raises(MalformedError, match="unknown metadata fields"):
        route({"subject_country": "DE", "email": "a@b.example"}, CONTENT, now=NOW)
    with pytest.raises(MalformedError):
        route({"data_categories": "user.contact"}, CONTENT, now=NOW)


def test_category_covers_is_dotted_prefix():
    assert category_covers("user.health", "user.health")
    assert category_covers("user", "user.health.genetic")
    assert not category_covers("user.health", "user.healthy")
    assert not category_covers("user.health.genetic", "user.health")


# --------------------------------------------------------------------------- exact inputs (#14.6)

TAXONOMY = ["user", "user.contact", "user.contact.email", "user.health", "user.biometric"]
STRICT = {**CONTENT, "categories": TAXONOMY}


@pytest.mark.parametrize("country", [" GB", "GB\n", "\tgb "])
def test_country_is_stripped_then_must_be_two_ascii_letters(country):
    decision = route({"subject_country": country}, STRICT, now=NOW)
    assert decision.home_jurisdiction == "GB"


@pytest.mark.parametrize(
    "country",
    ["GB\u200b", "\u200bGB", "\uff27\uff22", "G B", "GBR", "G", "G1", "Ｇb", "ĞB"],
)
def test_country_that_is_not_two_ascii_letters_is_refused_not_reinterpreted(country):
    with pytest.raises(MalformedError):
        route({"subject_country": country}, STRICT, now=NOW)


@pytest.mark.parametrize("category", ["USER.HEALTH", "User.health", "user.health ", "user.nope"])
def test_categories_are_matched_exactly_against_the_taxonomy(category):
    with pytest.raises(MalformedError) as info:
        route({"data_categories": [category]}, STRICT, now=NOW)
    assert info.value.code == "unknown_category"


def test_known_special_category_keeps_its_tag():
    decision = route({"data_categories": ["user.health"]}, STRICT, now=NOW)
    assert "special-category" in decision.tags and decision.data_store == "health"


def test_record_with_no_categories_is_never_covered_by_a_category_limited_transfer():
    # T-1 moves US user.contact into the EEA; a US record with no categories is not covered.
    decision = route({"subject_country": "US"}, STRICT, now=NOW)
    assert (decision.accepted, decision.code) == (False, "home_elsewhere")
    covered = route({"subject_country": "US", "data_categories": ["user.contact"]}, STRICT, now=NOW)
    assert covered.accepted and covered.transfer == "T-1"
