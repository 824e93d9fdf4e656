"""Pure parts: bundle content and drift."""

from datetime import UTC, datetime, timedelta

import pytest

from agents import protocol
from controlplane.distribution.builder import BundleContentError, RegionState, build_content
from controlplane.distribution.drift import drift_state

REGION = {"slug": "eu-central", "jurisdiction": "EEA"}


def state(**overrides):
    values = {
        "region": REGION,
        "residency_rules": [
            {"position": 2, "home_jurisdiction": "EEA", "data_store": "b"},
            {"position": 1, "home_jurisdiction": "GB", "subject_country": "GB"},
        ],
        "data_stores": [
            {"name": "b", "retention_days": 30},
            {"name": "a", "retention_days": 7},
        ],
        "special_categories": ["user.health", "user.health"],
    }
    values.update(overrides)
    return RegionState(**values)


def test_content_is_ordered_and_its_digest_is_stable():
    content = build_content(state())
    assert [r["position"] for r in content["residency_rules"]] == [1, 2]
    assert [s["name"] for s in content["data_stores"]] == ["a", "b"]
    assert content["retention"] == {"a": 7, "b": 30}
    assert content["special_categories"] == ["user.health"]
    shuffled = state(data_stores=list(reversed(state().data_stores)))
    assert protocol.digest_of(build_content(shuffled)) == protocol.digest_of(content)


def test_content_rejects_inconsistent_state():
    with pytest.raises(BundleContentError, match="unknown data store"):
        build_content(state(data_stores=[{"name": "a", "retention_days": 7}]))
    with pytest.raises(BundleContentError, match="share a position"):
        rules = [{"position": 1, "home_jurisdiction": "EEA"}] * 2
        build_content(state(residency_rules=rules))


NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seen_ago", "applied", "error", "expected"),
    [
        (10, "sha256:d", "", "synced"),
        (10, "sha256:old", "", "out_of_sync"),
        (10, "sha256:old", "bad_signature", "failed"),
        (89, "sha256:d", "", "synced"),
        (91, "sha256:d", "", "unknown"),
        (None, "", "", "unknown"),
    ],
)
def test_drift_state(seen_ago, applied, error, expected):
    last_seen = None if seen_ago is None else NOW - timedelta(seconds=seen_ago)
    assert (
        drift_state(
            last_seen=last_seen,
            poll_interval=30,
            applied_digest=applied,
            last_error_code=error,
            desired_digest="sha256:d",
            now=NOW,
        )
        == expected
    )
