"""Roll-ups and retention, the bundle's metrics part, the pages and the people's API."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from controlplane.metrics import charts, services
from controlplane.metrics.models import MetricBatch, MetricPoint, MetricRefusal, MetricRollup
from tests.metrics.conftest import batch, period_start

pytestmark = pytest.mark.django_db


def send(post_batch, version, *, start, key, requests=20, accuracy=0.9, period=300):
    body = batch(
        [
            {
                "metric": "inference.requests",
                "dimensions": {"model_version": version},
                "value": float(requests),
                "count": requests,
            },
            {
                "metric": "model.accuracy",
                "dimensions": {"model_version": version},
                "value": accuracy,
                "count": 10,
            },
        ],
        key=key,
        start=start,
        period=period,
    )
    response = post_batch(body)
    assert response.status_code == 201, response.json()


def hour_start(hours_ago=2):
    now = datetime.now(UTC) - timedelta(hours=hours_ago)
    return now.replace(minute=0, second=0, microsecond=0)


def test_hourly_and_daily_roll_ups_are_idempotent(post_batch, eu_version, registry):
    start = hour_start()
    send(post_batch, eu_version, start=start, key="mb-aaaaaaaaaaaa", requests=20, accuracy=0.8)
    send(
        post_batch,
        eu_version,
        start=start + timedelta(minutes=5),
        key="mb-bbbbbbbbbbbb",
        requests=30,
        accuracy=0.9,
    )
    first = services.roll_up()
    assert first["batches"] == 2
    hourly = MetricRollup.objects.get(
        resolution="hour", metric__name="inference.requests", period_start=start
    )
    assert hourly.value == 50 and hourly.count == 50
    accuracy = MetricRollup.objects.get(resolution="hour", metric__name="model.accuracy")
    assert accuracy.value == pytest.approx(0.85)  # count-weighted mean of 0.8 and 0.9
    rows = MetricRollup.objects.count()

    assert services.roll_up() == {"batches": 0, "rollups": 0}
    MetricBatch.objects.update(rolled_up=False)  # e.g. a crash before the flag was written
    services.roll_up()
    assert MetricRollup.objects.count() == rows
    hourly.refresh_from_db()
    assert hourly.value == 50

    # A late batch for the same hour is folded in on the next run.
    send(
        post_batch,
        eu_version,
        start=start + timedelta(minutes=10),
        key="mb-cccccccccccc",
        requests=25,
    )
    services.roll_up()
    hourly.refresh_from_db()
    assert hourly.value == 75
    daily = MetricRollup.objects.get(resolution="day", metric__name="inference.requests")
    assert daily.value == 75


def test_retention_per_resolution(post_batch, eu_version, registry, settings):
    send(post_batch, eu_version, start=hour_start(), key="mb-dddddddddddd")
    services.roll_up()
    later = timezone.now() + timedelta(days=settings.METRICS_RETENTION_RAW_DAYS + 1)
    deleted = services.apply_retention(now=later)
    assert deleted["points"] == 2 and MetricPoint.objects.count() == 0
    assert MetricRollup.objects.filter(resolution="hour").exists()  # kept longer
    much_later = timezone.now() + timedelta(days=settings.METRICS_RETENTION_HOUR_DAYS + 1)
    services.apply_retention(now=much_later)
    assert not MetricRollup.objects.filter(resolution="hour").exists()
    assert MetricRollup.objects.filter(resolution="day").exists()
    assert services.apply_retention(now=much_later)["hour"] == 0  # idempotent


def test_the_bundle_carries_catalogue_k_and_epsilon(
    registry, eu_version, bundle_keys, django_capture_on_commit_callbacks
):
    from controlplane.distribution import services as distribution
    from controlplane.distribution.selectors import latest_bundle
    from regions.services import estate_object_save

    distribution.publish_region(region=registry.eu_central)
    before = latest_bundle(registry.eu_central)
    metrics = before.payload["content"]["metrics"] if "content" in before.payload else None
    metrics = metrics or _find_metrics(before.payload)
    assert metrics["k"] == 10 and metrics["epsilon"] is None
    names = {e["name"] for e in metrics["catalogue"]}
    assert {"inference.requests", "inference.latency_ms.p95", "ingestion.records_refused"} <= names
    requests = next(e for e in metrics["catalogue"] if e["name"] == "inference.requests")
    assert eu_version in requests["dimensions"]["model_version"]

    region = registry.eu_central
    region.metrics_k, region.metrics_epsilon = 25, 0.5
    with django_capture_on_commit_callbacks(execute=True):
        estate_object_save(instance=region, by=registry.admin)
    after = latest_bundle(region)
    assert after.version > before.version
    assert _find_metrics(after.payload)["k"] == 25
    assert _find_metrics(after.payload)["epsilon"] == 0.5
    from controlplane.audit.models import AuditEvent

    event = AuditEvent.objects.filter(action="region.changed").latest("sequence")
    assert event.data["metrics_k"] == {"from": 10, "to": 25}


def _find_metrics(payload):
    if isinstance(payload, dict):
        if "catalogue" in payload and "k" in payload:
            return payload
        for value in payload.values():
            found = _find_metrics(value)
            if found:
                return found
    return None


@pytest.fixture
def bundle_keys(tuf_repository):
    return tuf_repository


def test_k_and_epsilon_are_validated_on_the_region(registry):
    from django.core.exceptions import ValidationError

    region = registry.eu_central
    region.metrics_k = 1
    with pytest.raises(ValidationError) as error:
        region.full_clean()
    assert "metrics_k" in error.value.message_dict
    region.metrics_k, region.metrics_epsilon = 10, 0
    with pytest.raises(ValidationError) as error:
        region.full_clean()
    assert "metrics_epsilon" in error.value.message_dict


# ------------------------------------------------------------------------------ charts and pages


def test_charts_are_self_contained_svg(post_batch, eu_version, registry):
    send(post_batch, eu_version, start=period_start(), key="mb-eeeeeeeeeeee")
    svg = charts.region_chart(
        region=registry.eu_central,
        metric="inference.requests",
        since=timezone.now() - timedelta(hours=6),
    )
    assert svg.startswith("<svg") and "</svg>" in svg
    assert "<script" not in svg and "http://" not in svg.replace("http://www.w3.org", "")
    assert "k=10" in svg and eu_version in svg
    empty = charts.line_chart(title="t", unit="ms", lines={})
    assert "Nothing released yet" in empty


def test_region_page_shows_charts_with_k_and_epsilon(client, post_batch, eu_version, registry):
    send(post_batch, eu_version, start=period_start(), key="mb-ffffffffffff")
    client.force_login(registry.dpo_eu)
    page = client.get("/metrics/regions/eu-central/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<svg") >= 8
    assert 'data-testid="k">10<' in html
    assert "no noise" in html


def test_pages_are_scoped_by_region(client, registry, eu_version):
    client.force_login(registry.dpo_uk)
    assert client.get("/metrics/regions/eu-central/").status_code == 404
    assert client.get("/metrics/regions/uk-south/").status_code == 200
    index = client.get("/metrics/").content.decode()
    assert "uk-south" in index and "eu-central" not in index
    assert client.get(f"/metrics/versions/{eu_version}/").status_code == 404
    client.force_login(registry.dpo_eu)
    version_page = client.get(f"/metrics/versions/{eu_version}/")
    assert version_page.status_code == 200
    assert version_page.content.decode().count("<svg") == 4


def test_refusal_log_for_dpos_and_auditors_only_and_scoped(client, post_batch, registry):
    from controlplane.distribution import services as distribution

    post_batch(b"{}")
    _, uk_token = distribution.agent_enroll(region=registry.uk_south, name="uk-metrics")
    post_batch(b"[]", token=uk_token)
    assert MetricRefusal.objects.count() == 2
    client.force_login(registry.dpo_eu)
    html = client.get("/metrics/refusals/").content.decode()
    assert "eu-central" in html and "uk-south" not in html
    client.force_login(registry.auditor)
    html = client.get("/metrics/refusals/").content.decode()
    assert "eu-central" in html and "uk-south" in html
    client.force_login(registry.ml_engineer)
    assert client.get("/metrics/refusals/").status_code == 403


# ------------------------------------------------------------------------------ API


def test_api_lists_series_scoped_filtered_and_paginated(client, post_batch, eu_version, registry):
    for i in range(3):
        send(
            post_batch,
            eu_version,
            start=period_start(minutes_ago=10 + 5 * i),
            key=f"mb-api{'abc'[i]}xxxxxxxx",
        )
    client.force_login(registry.dpo_eu)
    data = client.get("/api/v1/metrics/", {"metric": "inference.requests", "limit": 2}).json()
    assert data["count"] == 3 and len(data["results"]) == 2
    row = data["results"][0]
    assert row["region"] == "eu-central" and row["unit"] == "requests"
    assert row["dimensions"] == {"model_version": eu_version} and row["resolution"] == "raw"
    client.force_login(registry.dpo_uk)
    assert client.get("/api/v1/metrics/").json()["count"] == 0
    bad = client.get("/api/v1/metrics/", {"resolution": "minute"})
    assert bad.status_code == 400 and "resolution" in bad.json()


def test_api_list_runs_a_fixed_number_of_queries(client, post_batch, eu_version, registry):
    client.force_login(registry.dpo_eu)
    send(post_batch, eu_version, start=period_start(minutes_ago=30), key="mb-qqqqqqqqqqqq")
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/metrics/")
    for i in range(4):
        send(
            post_batch,
            eu_version,
            start=period_start(minutes_ago=40 + 5 * i),
            key=f"mb-q{'abcd'[i]}qqqqqqqqqq",
        )
    with CaptureQueriesContext(connection) as many:
        client.get("/api/v1/metrics/")
    assert len(many) == len(few)


def test_api_is_in_the_openapi_schema(client, registry):
    client.force_login(registry.admin)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/metrics/" in schema
    assert "/api/v1/agent/metrics" in schema


def test_k_and_epsilon_change_through_the_estate_api_audited(client, registry, settings):
    from controlplane.audit.models import AuditEvent

    client.force_login(registry.admin)
    response = client.patch(
        "/api/v1/regions/eu-central/",
        {"metrics_k": 30, "metrics_epsilon": 1.5},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    registry.eu_central.refresh_from_db()
    assert (registry.eu_central.metrics_k, registry.eu_central.metrics_epsilon) == (30, 1.5)
    event = AuditEvent.objects.filter(action="region.changed").latest("sequence")
    assert event.data["metrics_epsilon"] == {"from": None, "to": 1.5}
    bad = client.patch(
        "/api/v1/regions/eu-central/", {"metrics_k": 0}, content_type="application/json"
    )
    assert bad.status_code == 400 and "metrics_k" in bad.json()


def test_metrics_pages_run_a_fixed_number_of_queries(client, post_batch, eu_version, registry):
    client.force_login(registry.auditor)
    send(post_batch, eu_version, start=period_start(minutes_ago=30), key="mb-pgqqqqqqqqqq")
    post_batch(b"{}")
    counts = {}
    for round_, label in enumerate(("few", "many")):
        with CaptureQueriesContext(connection) as queries:
            for url in (
                "/metrics/",
                "/metrics/regions/eu-central/",
                "/metrics/refusals/",
                f"/metrics/versions/{eu_version}/",
            ):
                assert client.get(url).status_code == 200
        counts[label] = len(queries)
        for i in range(3):
            send(
                post_batch,
                eu_version,
                start=period_start(minutes_ago=40 + 15 * round_ + 5 * i),
                key=f"mb-pg{'ab'[round_]}{'abc'[i]}qqqqqqqqqq",
            )
            post_batch(b"[]")
    assert counts["many"] == counts["few"]
