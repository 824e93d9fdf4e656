"""POST /api/v1/agent/metrics: strict, all or nothing, idempotent, and a refusal log without values."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from controlplane.metrics.models import MetricBatch, MetricPoint, MetricRefusal
from tests.metrics.conftest import batch, period_start

pytestmark = pytest.mark.django_db


def requests_item(version, *, count=25, value=None):
    return {
        "metric": "inference.requests",
        "dimensions": {"model_version": version},
        "value": float(count if value is None else value),
        "count": count,
    }


def test_a_good_batch_is_stored_with_its_period(post_batch, eu_version, registry):
    body = batch(
        [
            requests_item(eu_version, count=40),
            {"metric": "inference.requests", "dimensions": {}, "value": 40.0, "count": 40},
            {
                "metric": "model.accuracy",
                "dimensions": {"model_version": eu_version},
                "value": 0.91,
                "count": 12,
            },
        ],
        suppressed=2,
    )
    response = post_batch(body)
    assert response.status_code == 201, response.json()
    assert response.json()["stored"] == 3
    points = MetricPoint.objects.filter(region=registry.eu_central)
    assert points.count() == 3
    accuracy = points.get(metric__name="model.accuracy")
    assert accuracy.value == pytest.approx(0.91)
    assert accuracy.model_version == eu_version
    assert MetricBatch.objects.get().suppressed == 2


def test_a_retry_answers_the_first_result_and_stores_once(post_batch, eu_version):
    body = json.dumps(batch([requests_item(eu_version)], key="mb-retryretryretry"))
    first = post_batch(body)
    second = post_batch(body)
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["replayed"] is True
    assert second.json()["stored"] == first.json()["stored"] == 1
    assert MetricPoint.objects.count() == 1
    assert MetricBatch.objects.count() == 1


def test_a_key_reused_for_other_content_is_a_conflict(post_batch, eu_version):
    assert (
        post_batch(batch([requests_item(eu_version)], key="mb-samekeysamekey")).status_code == 201
    )
    other = post_batch(batch([requests_item(eu_version, count=30)], key="mb-samekeysamekey"))
    assert other.status_code == 409
    assert MetricPoint.objects.count() == 1


def test_one_bad_item_refuses_the_whole_batch(post_batch, eu_version, registry):
    total = {"metric": "inference.requests", "dimensions": {}, "value": 3.0, "count": 3}
    body = batch([requests_item(eu_version), total])
    response = post_batch(body)
    assert response.status_code == 400
    reasons = response.json()["reasons"]
    assert {"field": "items[1].count", "code": "below_k"} == {
        k: reasons[0][k] for k in ("field", "code")
    }
    assert MetricPoint.objects.count() == 0
    assert MetricBatch.objects.count() == 0
    refusal = MetricRefusal.objects.get()
    assert refusal.region == registry.eu_central and refusal.codes == ["below_k"]


def test_k_comes_from_the_region(post_batch, eu_version, registry):
    registry.eu_central.metrics_k = 50
    registry.eu_central.save()
    response = post_batch(batch([requests_item(eu_version, count=40)]))
    assert response.status_code == 400
    assert response.json()["reasons"][0]["code"] == "below_k"


@pytest.mark.parametrize(
    "change,code",
    [
        ({"period_seconds": 120}, "invalid_period"),
        ({"period_start": "2026-11-26 10:00:00"}, "invalid_time"),
        ({"idempotency_key": "short"}, "invalid_key"),
        ({"items": []}, "invalid_items"),
        ({"suppressed": -1}, "invalid_count"),
    ],
)
def test_envelope_errors_name_the_field(post_batch, eu_version, change, code):
    response = post_batch({**batch([requests_item(eu_version)]), **change})
    assert response.status_code == 400
    assert code in {r["code"] for r in response.json()["reasons"]}
    assert MetricPoint.objects.count() == 0


def test_periods_must_be_aligned_ended_and_within_retention(post_batch, eu_version):
    aligned = period_start()
    cases = {
        "unaligned_period": aligned + timedelta(seconds=60),
        "future_period": period_start(minutes_ago=-10),
        "expired_period": aligned - timedelta(days=30),
    }
    for code, start in cases.items():
        body = batch([requests_item(eu_version)], start=start)
        body["period_start"] = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        response = post_batch(body)
        assert response.status_code == 400, code
        assert code in {r["code"] for r in response.json()["reasons"]}
    assert MetricPoint.objects.count() == 0


@pytest.mark.parametrize(
    "item,code",
    [
        (
            {"metric": "inference.latency_ms.p50", "dimensions": {}, "value": -1.0, "count": 20},
            "out_of_range",
        ),
        (
            {"metric": "model.accuracy", "dimensions": {}, "value": 0.9, "count": 20},
            "invalid_dimension_set",
        ),
        (
            {"metric": "inference.requests", "dimensions": {}, "value": 21.0, "count": 20},
            "out_of_range",
        ),
        (
            {"metric": "inference.requests", "dimensions": {}, "value": True, "count": 20},
            "invalid_value",
        ),
        (
            {"metric": "inference.requests", "dimensions": {}, "value": 1.0, "count": 20.5},
            "invalid_count",
        ),
        (
            {
                "metric": "inference.requests",
                "dimensions": {"model_version": "ghost:9"},
                "value": 1.0,
                "count": 20,
            },
            "unknown_value",
        ),
        (
            {"metric": "no.such_metric", "dimensions": {}, "value": 1.0, "count": 20},
            "unknown_metric",
        ),
    ],
)
def test_items_only_from_the_catalogue_and_in_range(post_batch, item, code):
    response = post_batch(batch([item]))
    assert response.status_code == 400
    assert code in {r["code"] for r in response.json()["reasons"]}
    assert MetricPoint.objects.count() == 0


def test_versions_of_other_regions_are_not_in_this_catalogue(post_batch, registry):
    from controlplane.metrics.selectors import model_versions_in

    foreign = set(model_versions_in(registry.us_east)) - set(model_versions_in(registry.eu_central))
    assert foreign
    response = post_batch(batch([requests_item(sorted(foreign)[0])]))
    assert response.status_code == 400
    assert response.json()["reasons"][0]["code"] == "unknown_value"


def test_not_a_number_and_infinity_are_refused(post_batch):
    raw = json.dumps(
        batch([{"metric": "inference.requests", "dimensions": {}, "value": 1.0, "count": 20}])
    )
    for constant in ("NaN", "Infinity", "-Infinity"):
        response = post_batch(raw.replace("1.0", constant))
        assert response.status_code == 400
        assert response.json()["reasons"][0]["code"] == "invalid_json"
    assert MetricPoint.objects.count() == 0


def test_oversized_bodies_are_refused_unread(post_batch, registry):
    huge = b'{"items": [' + b"0," * 600_000 + b"0]}"
    response = post_batch(huge)
    assert response.status_code == 413
    assert MetricRefusal.objects.get().codes == ["too_large"]


def test_too_many_items_are_refused(post_batch):
    items = [{"metric": "inference.requests", "dimensions": {}, "value": 1.0, "count": 20}] * 2001
    response = post_batch(batch(items))
    assert response.status_code == 400
    assert response.json()["reasons"][0]["code"] == "too_many_items"


def test_only_agents_and_only_their_own_region(client, post_batch, eu_version, registry):
    body = batch([requests_item(eu_version)])
    anonymous = client.post("/api/v1/agent/metrics", data=body, content_type="application/json")
    assert anonymous.status_code == 401
    client.force_login(registry.admin)
    person = client.post("/api/v1/agent/metrics", data=body, content_type="application/json")
    assert person.status_code in (401, 403)
    from controlplane.distribution import services

    _, us_token = services.agent_enroll(region=registry.us_east, name="us-metrics")
    response = post_batch(body, token=us_token)
    assert response.status_code == 400  # an eu-central version is not in us-east's catalogue
    assert MetricPoint.objects.count() == 0


def test_the_refusal_log_never_keeps_the_value(post_batch, eu_version, registry):
    secret = "jane.doe@example.org"
    body = batch([requests_item(eu_version)])
    body["items"][0]["dimensions"]["model_version"] = secret
    body[secret] = {"nested": "+44 20 7946 0958"}
    response = post_batch(body)
    assert response.status_code == 400
    stored = json.dumps(
        list(MetricRefusal.objects.values("codes", "reasons", "more_reasons", "body_bytes"))
    )
    assert "personal_data" in stored
    for fragment in ("jane", "example.org", "7946", "0958"):
        assert fragment not in stored
        assert fragment not in response.content.decode()


def test_refusals_keep_agent_and_time(post_batch, registry):
    before = datetime.now(UTC)
    post_batch(b"not json")
    refusal = MetricRefusal.objects.select_related("agent").get()
    assert refusal.agent.name == "eu-metrics"
    assert refusal.at >= before - timedelta(seconds=1)
    assert refusal.codes == ["invalid_json"]
