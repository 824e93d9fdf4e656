"""The routing API, its exports, the endpoint facts API and the matrix page, scoped."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controlplane.audit.models import AuditEvent
from regions.models import InferenceEndpoint
from regions.services import estate_object_save


def test_resolve_answers_the_ordered_endpoints_with_reasons(routed, client):
    client.force_login(routed.auditor)
    answer = client.get("/api/v1/routing/resolve", {"country": "DE"}).json()
    assert answer["jurisdiction"] == "EEA" and answer["gap"] is False
    assert [r["region"] for r in answer["routes"]][:2] == ["eu-central", "eu-west"]
    assert all(r["reason"] and r["basis"] for r in answer["routes"])
    assert "us-east" not in [r["region"] for r in answer["routes"]]


def test_a_category_the_transfer_does_not_cover_is_not_routed_there(routed, client):
    routed.approved_transfer()
    client.force_login(routed.admin)
    covered = client.get(
        "/api/v1/routing/resolve", {"country": "DE", "category": ["user.contact.email"]}
    ).json()
    assert "us-east" in [r["region"] for r in covered["routes"]]
    health = client.get(
        "/api/v1/routing/resolve",
        {"country": "DE", "category": ["user.contact.email", "user.health_and_medical"]},
    ).json()
    assert "us-east" not in [r["region"] for r in health["routes"]]
    assert health["not_routed"][0]["endpoint"] == "us-east/scoring"


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "country"),
        ({"country": "de"}, "country"),
        ({"country": "XX"}, "country"),
        ({"country": "DE", "category": "user.no_such_thing"}, "category"),
        ({"country": "DE", "model": "x" * 200}, "model"),
    ],
)
def test_bad_questions_are_400s_naming_the_field(routed, client, params, field):
    client.force_login(routed.dpo_eu)
    response = client.get("/api/v1/routing/resolve", params)
    assert response.status_code == 400
    assert field in response.json()


def test_a_dpo_sees_only_routes_into_their_regions(routed, client):
    client.force_login(routed.dpo_uk)
    table = client.get("/api/v1/routing/table").json()
    eea = table["jurisdictions"]["EEA"]
    assert [r["region"] for r in eea["routes"]] == ["uk-south"]
    assert eea["routes_elsewhere"] is True and eea["gap"] is False
    assert set(table["matrix"]["EEA"]) == {"uk-south"}
    assert table["scope"] == "your regions"
    exported = client.get("/api/v1/routing/exports/gateway.json")
    assert exported.status_code == 200
    assert "eu-central" not in exported.content.decode()
    answer = client.get("/api/v1/routing/resolve", {"country": "DE"}).json()
    assert [r["region"] for r in answer["routes"]] == ["uk-south"]


def test_exports_download_for_gateways(routed, client):
    client.force_login(routed.auditor)
    for name, content_type in [
        ("gateway.json", "application/json"),
        ("edge.json", "application/json"),
        ("nginx.conf", "text/plain; charset=utf-8"),
    ]:
        response = client.get(f"/api/v1/routing/exports/{name}")
        assert response.status_code == 200, name
        assert response["Content-Type"] == content_type
        assert f'filename="routing-{name}"' in response["Content-Disposition"]
        if name.endswith(".json"):
            json.loads(response.content)
    assert client.get("/api/v1/routing/exports/evil.sh").status_code == 404


def test_the_schema_documents_resolve_and_table(routed, client):
    client.force_login(routed.auditor)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "/api/v1/routing/resolve" in schema["paths"]
    assert "/api/v1/routing/table" in schema["paths"]
    names = {p["name"] for p in schema["paths"]["/api/v1/routing/resolve"]["get"]["parameters"]}
    assert {"country", "category", "model"} <= names


def test_endpoint_routing_facts_are_changed_audited_and_refused_elsewhere(routed, client):
    endpoint = InferenceEndpoint.objects.get(region=routed.eu_central, name="scoring")
    url = f"/api/v1/routing/endpoints/{endpoint.pk}/"
    client.force_login(routed.admin)
    response = client.patch(
        url,
        {"priority": 10, "input_categories": ["user.contact.email"]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["priority"] == 10
    assert response.json()["input_categories"] == ["user.contact.email"]
    event = AuditEvent.objects.filter(action="inferenceendpoint.routing_changed").latest("sequence")
    assert event.data["priority"] == {"from": 100, "to": 10}

    # Logs elsewhere: refused, naming the field, and nothing changes.
    count = AuditEvent.objects.count()
    response = client.patch(url, {"log_store": "no-such-store"}, content_type="application/json")
    assert response.status_code == 400 and "log_store" in response.json()
    assert AuditEvent.objects.count() == count

    # An auditor reads and changes nothing; a DPO of another region does not even see it.
    client.force_login(routed.auditor)
    assert client.get(url).status_code == 200
    assert client.patch(url, {"priority": 1}, content_type="application/json").status_code == 403
    client.force_login(routed.dpo_uk)
    assert client.get(url).status_code == 404
    assert client.patch(url, {"priority": 1}, content_type="application/json").status_code == 404
    endpoint.refresh_from_db()
    assert endpoint.priority == 10


def test_the_matrix_page_shows_reasons_gaps_and_only_visible_regions(routed, client):
    client.force_login(routed.dpo_eu)
    page = client.get("/routing/").content.decode()
    assert 'data-testid="routing-matrix"' in page
    assert "eu-central" in page and "us-east</a>" not in page
    assert "no transfer" in page  # the same-jurisdiction reason
    assert "gap: no lawful endpoint" in page

    client.force_login(routed.admin)
    routed.approved_transfer(categories=("user.contact.email",))  # covers too little: no route
    with CaptureQueriesContext(connection) as small:
        client.get("/routing/")
    for i in range(5):
        estate_object_save(
            instance=InferenceEndpoint(
                region=routed.us_east, name=f"more-{i}", url=f"https://m{i}.example.com/"
            ),
            by=routed.admin,
        )
    routed.approved_transfer()
    with CaptureQueriesContext(connection) as large:
        page = client.get("/routing/").content.decode()
    assert "TRANSFER_IN_EFFECT" not in page and "transfer</span>" in page
    assert len(large) == len(small)
