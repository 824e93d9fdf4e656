"""The ingestion router: pure, metadata only, default deny."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agents.protocol import MalformedError
from agents.router import category_covers, route

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

CONTENT = {
    "region": {"slug": "eu-central", "jurisdiction": "EEA"},
    "special_categories": ["user.health", "user.biometric"],
    "residency_rules": [
        {"order": 30, "match": "country", "value": "US", "home_jurisdiction": "US"},
        {"order": 10, "match": "contract_tag", "value": "swiss-bank", "home_jurisdiction": "CH"},
        {"order": 20, "match": "category", "value": "user.health", "home_jurisdiction": "EEA"},
        {"order": 40, "match": "country", "value": "de", "home_jurisdiction": "EEA"},
        {"order": 50, "match": "country", "value": "GB", "home_jurisdiction": "GB"},
    ],
    "data_stores": [
        {"name": "eu-health", "categories": ["user.health"], "retention_days": 3650},
        {"name": "eu-main", "default": True, "retention_days": 30},
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


def test_local_record_goes_to_default_store_with_tags():
    d = route(
        {"subject_country": "DE", "data_categories": ["user.contact.email"]}, CONTENT, now=NOW
    )
    assert d.accepted and d.home_jurisdiction == "EEA" and d.data_store == "eu-main"
    assert d.rule == 40
    assert {"home:EEA", "region:eu-central", "store:eu-main", "retention:30d"} <= set(d.tags)


def test_rules_apply_in_order_and_category_prefixes_match():
    d = route(
        {"subject_country": "US", "data_categories": ["user.health.genetic"]}, CONTENT, now=NOW
    )
    assert d.accepted and d.rule == 20 and d.data_store == "eu-health"
    assert "special-category" in d.tags
    d = route({"subject_country": "DE", "contract_tags": ["swiss-bank"]}, CONTENT, now=NOW)
    assert (d.accepted, d.code, d.home_jurisdiction) == (False, "home_elsewhere", "CH")


def test_default_deny_when_no_rule_matches():
    d = route({"subject_country": "FR", "data_categories": ["user.contact"]}, CONTENT, now=NOW)
    assert (d.accepted, d.code) == (False, "no_rule")
    assert route({}, CONTENT, now=NOW).code == "no_metadata"


def test_record_from_elsewhere_needs_an_active_covering_transfer():
    covered = {"subject_country": "US", "data_categories": ["user.contact.email"]}
    d = route(covered, CONTENT, now=NOW)
    assert d.accepted and d.transfer == "T-1" and "transfer:T-1" in d.tags
    wider = {"subject_country": "US", "data_categories": ["user.contact.email", "user.location"]}
    assert route(wider, CONTENT, now=NOW).code == "home_elsewhere"
    later = datetime(2026, 7, 1, tzinfo=UTC)
    assert route(covered, CONTENT, now=later).code == "home_elsewhere"
    suspended = {"subject_country": "GB", "data_categories": ["user.contact"]}
    assert route(suspended, CONTENT, now=NOW).code == "home_elsewhere"


def test_no_store_means_refusal():
    content = {**CONTENT, "data_stores": [{"name": "x", "categories": ["system"]}]}
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
