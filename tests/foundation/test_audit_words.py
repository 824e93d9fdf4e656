"""Audit events in words: the three shapes of change, facts, and links to objects."""

import pytest

from controlplane.web.audit_words import describe, object_url


def _text(lines):
    return [(line.field, line.before, line.after) for line in lines]


def test_field_changes_read_as_before_and_after():
    data = {"retention_days": {"from": 30, "to": 7}, "name": {"from": "a", "to": "b"}}
    assert _text(describe(data)) == [("retention days", "30", "7"), ("name", "a", "b")]


def test_nested_changes_and_reason():
    data = {
        "key": "scc-x",
        "changes": {"ends_on": {"from": None, "to": "2030-01-01"}},
        "reason": "renewed",
    }
    assert _text(describe(data)) == [
        ("ends on", "(empty)", "2030-01-01"),
        ("key", None, "scc-x"),
        ("reason", None, "renewed"),
    ]


def test_before_and_after_snapshots_show_only_what_differs():
    data = {"before": {"email": "daily", "muted": []}, "after": {"email": "off", "muted": []}}
    assert _text(describe(data)) == [("email", "daily", "off")]


def test_facts_lists_and_booleans_in_words_and_long_values_cut():
    lines = describe({"codes": ["A", "B"], "allowed": False, "purpose": "x" * 500})
    assert _text(lines)[:2] == [("codes", None, "A, B"), ("allowed", None, "no")]
    assert len(lines[2].after) == 120 and lines[2].after.endswith("…")
    assert describe({}) == [] and describe(None) == []


@pytest.mark.parametrize(
    "object_type,object_id,repr_,url",
    [
        ("transfers.transferrequest", "7", "TR-7", "/transfers/7/"),
        ("regions.region", "3", "eu-central", "/regions/eu-central/"),
        ("audit.auditchainhead", "1", "head", ""),
        ("transfers.transferrequest", "", "", ""),
    ],
)
def test_object_links(object_type, object_id, repr_, url):
    assert object_url(object_type, object_id, repr_) == url
