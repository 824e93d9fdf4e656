"""Bad input answers a clear 4xx and changes nothing: one test per cause the fuzzing and the
hand-made probes of issue 20 found (each was a 500, an HTML page or a 30-second request)."""

import json
import time

import pytest
from django.db import transaction
from django.test import Client

from controlplane.metrics.models import MetricBatch
from controlplane.modelregistry.models import ModelVersion
from controlplane.transfers.models import TransferRecord, TransferRequest

pytestmark = pytest.mark.postgres


@pytest.fixture
def e(security_estate, postgres):
    return security_estate


def as_person(e, username) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(e.people[username])
    return client


def as_agent(e, slug="eu-central") -> Client:
    return Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {e.tokens[slug]}")


def send(client, method, url, body=None, content_type="application/json"):
    """One request in a savepoint: a 500 that broke the transaction does not break the test."""
    with transaction.atomic():
        data = body if isinstance(body, str | bytes) or body is None else json.dumps(body)
        kwargs = {"data": data, "content_type": content_type} if data is not None else {}
        response = client.generic(method, url, **kwargs)
        transaction.set_rollback(True)
    return response


def assert_json_error(response, status):
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    return response.json()


def test_anonymous_api_calls_are_401_with_a_challenge(e):
    for url in ("/api/v1/regions/", "/api/v1/transfers/requests/", "/api/v1/"):
        response = Client().get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == 'Token', url
    # An agent's token opens nothing of the people's API: not recognised, so 401 too.
    response = as_agent(e).get("/api/v1/regions/")
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    # The agents' API challenges with its own scheme.
    response = Client().post("/api/v1/agent/status", {}, content_type="application/json")
    assert response.status_code == 401 and response["WWW-Authenticate"] == 'Bearer realm="agent"'


def test_deeply_nested_json_is_a_400_even_before_login(e):
    """2 KB of brackets reached the token endpoint without login and raised RecursionError."""
    body = "[" * 1024 + "]" * 1024
    detail = assert_json_error(send(Client(), "POST", "/api/v1/auth/token/", body), 400)
    assert "nested deeper than 32 levels" in detail["detail"]
    evaluate = send(as_person(e, "dpo-eu"), "POST", "/api/v1/transfers/evaluate", body)
    assert_json_error(evaluate, 400)


@pytest.mark.parametrize(
    "query",
    ["limit=99999999999999999999", "limit=0", "limit=-1", "limit=abc", "limit=1001",
     "offset=99999999999999999999", "offset=-5", "offset=1e3"],
)  # fmt: skip
def test_pagination_beyond_its_range_is_a_400(e, query):
    """?limit beyond bigint reached SQL (a 500); a bad value was silently ignored."""
    response = send(as_person(e, "dpo-eu"), "GET", f"/api/v1/countries/?{query}")
    detail = assert_json_error(response, 400)
    assert query.split("=")[0] in detail


def test_pagination_in_range_still_pages(e):
    response = as_person(e, "dpo-eu").get("/api/v1/countries/?limit=1000&offset=10")
    assert response.status_code == 200 and len(response.json()["results"]) == 239


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/transfers/requests/abc/approve/",
        "/api/v1/transfers/requests/1e3/reject/",
        "/api/v1/transfers/records/x/",
        "/api/v1/data-stores/1.5/",
        "/api/v1/agents/not-a-uuid/",
        "/api/v1/transfers/requests/99999999999999999999999/approve/",
    ],
)
def test_ids_that_are_not_ids_are_404s(e, url):
    """A non-numeric id in a decision URL reached the database (a 500)."""
    method = "POST" if url.endswith(("approve/", "reject/")) else "GET"
    assert_json_error(send(as_person(e, "dpo-eu"), method, url, {}), 404)


@pytest.mark.parametrize(
    "method,url,body",
    [
        ("GET", "/api/v1/data-stores/?region=eu%00", None),  # a filter
        ("GET", "/api/v1/transfers/requests/?q=a%00b", None),  # a FilterSet's search
        ("GET", "/api/v1/regions/eu%00central/", None),  # a path parameter
        ("GET", "/api/v1/models/fraud%00/", None),
        ("GET", "/api/v1/countries/D%00/", None),
        ("POST", "/api/v1/transfers/records/", {"source_region": "eu-central\x00"}),  # related
        ("POST", "/api/v1/transfers/evaluate", {"data_categories": ["user\x00"]}),
        ("POST", "/api/v1/transfers/evaluate", {"a\x00": 1}),  # a key
    ],
)
def test_nul_characters_never_reach_postgresql(e, method, url, body):
    """PostgreSQL cannot hold a NUL: through a filter, a path or a related field it was a 500."""
    detail = assert_json_error(send(as_person(e, "dpo-eu"), method, url, body), 400)
    assert "NUL characters are not allowed" in str(detail)


def test_nul_characters_in_a_pages_form_are_a_400(e):
    """A form's choice with a NUL (ModelChoiceField looks it up in the database) is refused."""
    client = as_person(e, "dpo-eu")
    response = send(
        client,
        "POST",
        "/reports/",
        "kind=mechanism_inventory&regions=eu-central%00",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "NUL characters are not allowed" in response.content.decode()
    assert send(client, "GET", "/transfers/?q=%00").status_code == 400


def _version(metrics: str, label: str) -> str:
    fields = {
        "version": label,
        "digest": "sha256:" + "a" * 64,
        "framework": "x",
        "training_mode": "synthetic",
        "contains_personal_data": False,
        "artifacts": {"eu-central": "s3://models/x"},
    }
    return json.dumps(fields)[:-1] + ', "metrics": ' + metrics + "}"  # raw JSON, NaN included


@pytest.mark.parametrize(
    "metrics",
    ['{"auc": NaN}', '{"auc": Infinity}', '{"auc": -Infinity}', '{"auc": 1e999}',
     '{"auc": ' + "9" * 400 + "}", '{"auc": "NaN"}'],
)  # fmt: skip
def test_non_finite_metrics_are_refused_by_the_api(e, metrics):
    client = as_person(e, "ml-engineer-a")
    response = send(client, "POST", "/api/v1/models/fraud-scoring/versions/", _version(metrics, "9.9"))
    assert_json_error(response, 400)
    assert not ModelVersion.objects.filter(version="9.9").exists()


@pytest.mark.parametrize("metrics", ['{"auc": NaN}', '{"auc": Infinity}', '{"auc": 1e999}'])
def test_non_finite_metrics_are_refused_by_the_page(e, metrics):
    """The page's form parsed NaN and Infinity with json.loads; PostgreSQL's jsonb refused them
    (a 500)."""
    form = {
        "version": "9.8",
        "digest": "sha256:" + "b" * 64,
        "framework": "x",
        "metrics": metrics,
        "training_mode": "synthetic",
        "artifacts": "eu-central s3://models/y",
    }
    with transaction.atomic():
        response = as_person(e, "ml-engineer-a").post("/models/fraud-scoring/versions/new/", form)
        transaction.set_rollback(True)
    assert response.status_code == 200  # the form again, with the error (the page's way)
    assert "finite number" in response.content.decode()
    assert not ModelVersion.objects.filter(version="9.8").exists()


def _batch(e, **overrides):
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC) - timedelta(minutes=10)
    epoch = int(now.timestamp())
    start = datetime.fromtimestamp(epoch - epoch % 300, UTC)
    return {
        "idempotency_key": "bad-input-batch-1",
        "period_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "period_seconds": 300,
        "items": [{"metric": "inference.requests", "dimensions": {}, "value": 40.0, "count": 40}],
        **overrides,
    }


def test_integers_beyond_their_column_from_agents_are_refused(e):
    """``suppressed`` goes into a 32-bit column: 2**40 was a 500 (integer out of range)."""
    agent = as_agent(e)
    body = json.dumps(_batch(e, suppressed=2**40))
    response = send(agent, "POST", "/api/v1/agent/metrics", body)
    detail = assert_json_error(response, 400)
    assert "suppressed" in json.dumps(detail)
    assert not MetricBatch.objects.filter(idempotency_key="bad-input-batch-1").exists()
    # A volume beyond 64 bits in a transfer report: refused before it reaches a column.
    record = {
        "destination_country": "US",
        "categories": ["user.contact.email"],
        "volume": 2**70,
        "executed_at": "2026-03-02T10:00:00Z",
    }
    response = send(agent, "POST", "/api/v1/agent/transfers", {"records": [record]})
    assert_json_error(response, 400)


def test_bodies_over_the_limit_are_a_json_413(e, settings):
    """Answered as Django's HTML 'Bad Request (400)' page before."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    big = json.dumps({"records": [{"importer_name": "x" * 1000}] * 200})
    for client, url in (
        (as_agent(e), "/api/v1/agent/status"),
        (as_agent(e), "/api/v1/agent/transfers"),
        (as_person(e, "dpo-eu"), "/api/v1/transfers/evaluate"),
        (Client(), "/api/v1/auth/token/"),
    ):
        detail = assert_json_error(send(client, "POST", url, big), 413)
        assert detail["code"] == "too_large", url
    form = send(
        Client(),
        "POST",
        "/api/v1/auth/token/",
        "username=" + "x" * 200_000,
        content_type="application/x-www-form-urlencoded",
    )
    assert_json_error(form, 413)


def test_unknown_data_categories_from_agents_are_refused(e):
    record = {
        "destination_country": "US",
        "categories": ["user.contact.email", "made.up"],
        "volume": 1,
        "executed_at": "2026-03-02T10:00:00Z",
    }
    response = send(as_agent(e), "POST", "/api/v1/agent/transfers", {"records": [record]})
    assert "Unknown data categories: made.up" in str(assert_json_error(response, 400))


def test_a_huge_list_is_refused_at_once(e):
    """A request with 60,000 data categories took 30 s (one query per item) before failing."""
    body = {
        "source_region": "eu-central",
        "destination_country": "IN",
        "exporter": 1,
        "importer": 1,
        "data_categories": ["user.contact.email"] * 60_000,
        "data_subjects": "customers",
        "purpose": "x",
        "frequency": "recurring",
    }
    before = TransferRequest.objects.count()
    started = time.perf_counter()
    response = send(as_person(e, "requester-a"), "POST", "/api/v1/transfers/requests/", body)
    elapsed = time.perf_counter() - started
    assert "more than 1000 entries" in str(assert_json_error(response, 400))
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert TransferRequest.objects.count() == before


def test_deleting_what_is_still_used_is_a_409(e):
    """A data store that residency rules name cannot go (ProtectedError was a 500)."""
    store = e.regions["eu-central"].data_stores.order_by("pk")[0]
    response = send(as_person(e, "admin"), "DELETE", f"/api/v1/data-stores/{store.pk}/")
    detail = assert_json_error(response, 409)
    assert detail["code"] == "in_use" and "residency rules" in detail["detail"]


def test_api_errors_outside_views_are_json(e):
    """A URL the API does not have is a JSON 404, not the HTML page."""
    response = as_person(e, "dpo-eu").get("/api/v1/no-such-thing/")
    assert_json_error(response, 404)
    assert TransferRecord.objects.exists()  # nothing above changed the estate
