"""The routing lists go through FilterSets like every other list: the endpoints page and
``/api/v1/routing/endpoints/`` share one, the matrix page and ``/api/v1/routing/table`` share
another; same parameters, same rows; a bad value is a readable 400; fixed query counts."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controlplane.modelregistry.models import MLModel
from controlplane.routing.models import ServedModel
from regions.models import DataCategory, InferenceEndpoint
from regions.services import estate_object_save

pytestmark = pytest.mark.django_db


def page_endpoints(client, query):
    response = client.get(f"/routing/endpoints/?{query}")
    assert response.status_code == 200, response.content[:400]
    return [str(e) for e in response.context["list"].page.paginator.object_list]


def api_endpoints(client, query):
    response = client.get(f"/api/v1/routing/endpoints/?{query}&limit=500")
    assert response.status_code == 200, response.content[:400]
    return [e["endpoint"] for e in response.json()["results"]]


def _more_endpoints(routed, n, region=None):
    email = DataCategory.objects.get(key="user.contact.email")
    model, _ = MLModel.objects.get_or_create(
        name="triage", defaults={"purpose": "Sorts tickets", "owner_team": "Support"}
    )
    for i in range(n):
        endpoint = estate_object_save(
            instance=InferenceEndpoint(
                region=region or routed.us_east,
                name=f"extra-{i}",
                url=f"https://extra{i}.example.com/",
                priority=200 - i,
                serves_traffic=bool(i % 2),
            ),
            by=routed.admin,
        )
        endpoint.input_categories.add(email)
        ServedModel.objects.create(endpoint=endpoint, model=model)


@pytest.mark.parametrize(
    "query",
    [
        "",
        "q=scoring",
        "region=eu-central",
        "serving=no",
        "logs=yes&ordering=-latency",
        "category=user.name&ordering=priority",
        "model=TRIAGE&ordering=-region",
        "q=extra&serving=yes&ordering=priority",
    ],
)
def test_the_endpoints_page_and_api_list_the_same_rows(routed, client, query):
    _more_endpoints(routed, 4)
    client.force_login(routed.admin)
    on_page = page_endpoints(client, query)
    assert on_page == api_endpoints(client, query)
    if query:
        assert len(on_page) < InferenceEndpoint.objects.count()


def test_the_filters_mean_what_they_say(routed, client):
    _more_endpoints(routed, 4)
    client.force_login(routed.admin)
    assert page_endpoints(client, "q=extra&serving=no&ordering=priority") == [
        "us-east/extra-2",
        "us-east/extra-0",
    ]
    takers = set(page_endpoints(client, "category=user.contact.email"))
    assert {"eu-central/scoring", "us-east/extra-0"} <= takers
    assert all(
        InferenceEndpoint.objects.get(region__slug=e.split("/")[0], name=e.split("/")[1])
        .input_categories.filter(key="user.contact.email")
        .exists()
        for e in takers
    )
    never = page_endpoints(client, "logs=no")
    assert never and all(e.startswith("us-east/extra-") for e in never)


def test_a_dpo_lists_only_the_endpoints_of_their_regions(routed, client):
    client.force_login(routed.dpo_uk)
    assert page_endpoints(client, "") == api_endpoints(client, "") == ["uk-south/scoring"]
    # A region filter offers only the person's regions: another region's slug is refused.
    response = client.get("/routing/endpoints/?region=eu-central")
    assert response.status_code == 400


@pytest.mark.parametrize(
    "query, name",
    [("serving=maybe", "serving"), ("region=atlantis", "region"), ("ordering=colour", "ordering")],
)
def test_a_bad_endpoint_filter_is_one_sentence_on_the_page_and_in_the_api(
    routed, client, query, name
):
    client.force_login(routed.auditor)
    page = client.get(f"/routing/endpoints/?{query}")
    assert page.status_code == 400
    sentence = page.context["list"].error
    assert sentence.startswith("Check the filters:") and f"({name})" in sentence
    api = client.get(f"/api/v1/routing/endpoints/?{query}")
    assert api.status_code == 400
    assert api.json()["detail"] == sentence and name in api.json()["filters"]


def test_the_endpoints_page_and_api_run_a_fixed_number_of_queries(routed, client):
    _more_endpoints(routed, 1, region=routed.eu_west)  # every kind of related row, once
    client.force_login(routed.admin)
    query = "category=user.contact.email&ordering=priority"
    with CaptureQueriesContext(connection) as small_page:
        client.get(f"/routing/endpoints/?{query}")
    with CaptureQueriesContext(connection) as small_api:
        client.get(f"/api/v1/routing/endpoints/?{query}")
    _more_endpoints(routed, 8)
    with CaptureQueriesContext(connection) as large_page:
        client.get(f"/routing/endpoints/?{query}")
    with CaptureQueriesContext(connection) as large_api:
        response = client.get(f"/api/v1/routing/endpoints/?{query}")
    assert response.json()["count"] >= 12
    assert len(large_page) == len(small_page)
    assert len(large_api) == len(small_api)


# --- The matrix ---------------------------------------------------------------------------


def matrix_codes(client, query):
    response = client.get(f"/routing/?{query}")
    assert response.status_code == 200, response.content[:400]
    return {code for row in response.context["rows"] for code in row["jurisdictions"]}


def test_the_matrix_finds_a_country_and_the_table_api_answers_the_same_rows(routed, client):
    client.force_login(routed.dpo_eu)
    japan = matrix_codes(client, "q=Japan")
    assert japan == {"JP"}
    table = client.get("/api/v1/routing/table?q=Japan").json()
    assert set(table["jurisdictions"]) == set(table["matrix"]) == japan
    assert table["countries"] == {"JP": "JP"}
    page = client.get("/routing/?q=Japan").content.decode()
    assert 'data-jurisdictions="JP"' in page and 'data-jurisdictions="EEA"' not in page
    # Unfiltered, the API keeps the whole table (gateways read it).
    whole = client.get("/api/v1/routing/table").json()
    assert len(whole["jurisdictions"]) > 100 and len(whole["countries"]) == 249


def test_the_gap_filter_shows_exactly_the_gaps_on_page_and_api(routed, client):
    client.force_login(routed.auditor)
    gaps = matrix_codes(client, "gap=yes")
    served = matrix_codes(client, "gap=no")
    table = client.get("/api/v1/routing/table").json()
    assert gaps == {c for c, e in table["jurisdictions"].items() if e["gap"]}
    assert served == {c for c, e in table["jurisdictions"].items() if not e["gap"]}
    assert set(client.get("/api/v1/routing/table?gap=yes").json()["jurisdictions"]) == gaps
    assert "EEA" in served and gaps


def test_a_bad_matrix_filter_is_a_readable_400_on_page_and_api(routed, client):
    client.force_login(routed.auditor)
    page = client.get("/routing/?gap=perhaps")
    assert page.status_code == 400
    sentence = page.context["filter_error"]
    assert "(gap)" in sentence and sentence in page.content.decode()
    assert page.context["rows"] == []
    api = client.get("/api/v1/routing/table?gap=perhaps")
    assert api.status_code == 400 and api.json()["detail"] == sentence


def test_the_filtered_matrix_runs_a_fixed_number_of_queries(routed, client):
    client.force_login(routed.admin)
    routed.approved_transfer(categories=("user.contact.email",))  # every kind of input, once
    with CaptureQueriesContext(connection) as small:
        client.get("/routing/?q=united&gap=no")
    _more_endpoints(routed, 6, region=routed.eu_west)
    routed.approved_transfer()
    with CaptureQueriesContext(connection) as large:
        client.get("/routing/?q=united&gap=no")
    assert len(large) == len(small)
