"""Pages and API endpoints: scoping, four eyes through HTTP, the dry run, the queue."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controlplane.transfers import services
from controlplane.transfers.models import Mechanism, TransferRequest
from tests.transfers.pages import end_through_the_page

pytestmark = pytest.mark.django_db

ISSUE_EXAMPLE = {
    "source_region": "eu-central",
    "destination_country": "US",
    "exporter": {"name": "Acme GmbH", "country": "DE", "role": "controller"},
    "importer": {
        "name": "Cloudy Inc",
        "country": "US",
        "role": "processor",
        "certifications": ["EU-US-DPF"],
    },
    "data_categories": ["user.contact.email"],
    "frequency": "recurring",
    "derogation": None,
    "on": "2026-12-01",
}


def evaluate(client, body):
    return client.post("/api/v1/transfers/evaluate", body, content_type="application/json")


# --- the dry run ---------------------------------------------------------------------------


def test_evaluate_answers_the_issue_example_and_saves_nothing(world, client):
    client.force_login(world.estate.requester)
    before = TransferRequest.objects.count()
    response = evaluate(client, ISSUE_EXAMPLE)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["transfer"] is True and body["allowed"] is True
    assert body["basis"] == "adequacy" and body["mechanism"]["key"] == "eu-adequacy-US"
    assert {f["code"] for f in body["findings"]} >= {"ADEQUACY_IN_FORCE"}
    assert all(set(f) == {"code", "severity", "message"} for f in body["findings"])
    assert TransferRequest.objects.count() == before


def test_evaluate_with_country_and_party_id_and_privacy_shield_history(world, client):
    client.force_login(world.estate.requester)
    body = dict(ISSUE_EXAMPLE, on="2020-07-20")
    body.pop("source_region")
    body["source_country"] = "FR"
    body["importer"] = dict(ISSUE_EXAMPLE["importer"], certifications=["EU-US-PRIVACY-SHIELD"])
    answer = evaluate(client, body).json()
    assert answer["allowed"] is False
    # Invalidated by the CJEU (C-311/18, 16 July 2020), not revoked, and said in words.
    shield = [f for f in answer["findings"] if f["code"] == "MECHANISM_INVALIDATED"]
    assert shield and "C-311/18" in shield[0]["message"]
    body["on"] = "2019-05-01"
    assert evaluate(client, body).json()["basis"] == "adequacy"
    by_id = dict(body, on=None, importer={"id": world.bangalore.pk}, exporter={"id": world.acme.pk})
    by_id["destination_country"] = "IN"
    answer = evaluate(client, by_id).json()
    assert answer["basis"] == "scc" and answer["mechanism"]["key"] == "scc-acme-bangalore"


def test_evaluate_intra_eea_is_not_a_transfer(world, client):
    client.force_login(world.estate.requester)
    importer = {"name": "Nuage SA", "country": "FR", "role": "processor"}
    body = dict(ISSUE_EXAMPLE, destination_country="FR", importer=importer)
    answer = evaluate(client, body).json()
    assert answer["transfer"] is False and answer["basis"] == "none_needed"


def test_evaluate_hosting_in_the_eea_for_a_foreign_importer_is_a_transfer(world, client):
    """EDPB Guidelines 05/2021, criterion 3: the importer's own country decides. Data hosted in
    France but handed to a company established in China is a transfer to China."""
    client.force_login(world.estate.requester)
    importer = {"name": "Dragon Data Co", "country": "CN", "role": "processor"}
    body = dict(ISSUE_EXAMPLE, destination_country="FR", importer=importer)
    answer = evaluate(client, body).json()
    codes = [f["code"] for f in answer["findings"]]
    assert answer["transfer"] is True and answer["allowed"] is False
    assert "DESTINATION_IS_IMPORTER_COUNTRY" in codes
    assert "CN has no EU adequacy decision" in answer["findings"][-1]["message"]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"destination_country": "XX"}, "destination_country"),
        ({"data_categories": ["user.contact.email", "user.nonsense"]}, "data_categories"),
        ({"derogation": "because_we_can"}, "derogation"),
        ({"frequency": "weekly"}, "frequency"),
        ({"source_region": "mars-north"}, "source_region"),
        ({"exporter": {"name": "X", "country": "QQ", "role": "controller"}}, "exporter"),
        ({"importer": {"id": 999999}}, "importer"),
        ({"importer": {"name": "Y", "country": "US", "role": "joint"}}, "importer"),
    ],
    ids=[
        "unknown-country",
        "unknown-category",
        "unknown-derogation",
        "unknown-frequency",
        "unknown-region",
        "unknown-party-country",
        "unknown-party-id",
        "unknown-role",
    ],
)
def test_evaluate_rejects_unknown_values_naming_the_field(world, client, change, field):
    client.force_login(world.estate.requester)
    response = evaluate(client, dict(ISSUE_EXAMPLE, **change))
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_auditors_may_use_the_dry_run(world, client):
    client.force_login(world.estate.auditor)
    assert evaluate(client, ISSUE_EXAMPLE).status_code == 200


def test_people_who_decide_nothing_land_on_their_own_requests(world, client):
    client.force_login(world.estate.requester)
    response = client.get("/transfers/")
    assert response.status_code == 302 and response.url == "/transfers/mine/"


def test_evaluate_does_not_reveal_regions_the_user_cannot_see(world, client):
    client.force_login(world.estate.requester)  # no access to uk-south
    response = evaluate(client, dict(ISSUE_EXAMPLE, source_region="uk-south"))
    assert response.status_code == 400 and "source_region" in response.json()


# --- UI: region scope, four eyes, auditors ---------------------------------------------------


def test_dpo_of_another_region_gets_404_and_the_request_is_unchanged(new_request, world, client):
    """dpo-us cannot see eu-central: 404, like a request that does not exist (issue 13.6)."""
    tr = new_request()
    client.force_login(world.estate.dpo_us)
    assert client.post(f"/transfers/{tr.pk}/approve/").status_code == 404
    assert client.post(f"/transfers/{tr.pk}/reject/", {"reason": "x"}).status_code == 404
    assert client.get(f"/transfers/{tr.pk}/").status_code == 404
    api = client.post(f"/api/v1/transfers/requests/{tr.pk}/approve/", {}, "application/json")
    assert api.status_code == 404
    tr.refresh_from_db()
    assert tr.status == "submitted" and tr.decided_by is None
    assert f'data-request="{tr.pk}"' not in client.get("/transfers/").content.decode()


def test_requester_follows_but_cannot_approve_their_request(new_request, world, client):
    tr = new_request()
    client.force_login(world.estate.requester)
    page = client.get(f"/transfers/{tr.pk}/").content.decode()
    assert 'data-testid="approve"' not in page and "SCC_IN_FORCE" in page
    assert f'data-request="{tr.pk}"' in client.get("/transfers/mine/").content.decode()
    assert client.post(f"/transfers/{tr.pk}/approve/").status_code == 403
    tr.refresh_from_db()
    assert tr.status == "submitted"


def test_a_dpo_sees_four_eyes_on_their_own_request(new_request, world, client):
    dpo = world.estate.dpo_eu
    tr = new_request(by=dpo)
    client.force_login(dpo)
    page = client.get(f"/transfers/{tr.pk}/").content.decode()
    assert 'data-testid="four-eyes"' in page and 'data-testid="approve"' not in page
    assert client.post(f"/transfers/{tr.pk}/approve/").status_code == 403
    tr.refresh_from_db()
    assert tr.status == "submitted"


def test_dpo_approves_through_the_page_and_the_loser_sees_a_message(
    new_request, world, client, make_user
):
    tr = new_request()
    client.force_login(world.estate.dpo_eu)
    response = client.post(f"/transfers/{tr.pk}/approve/", {"conditions": "Encrypt."}, follow=True)
    assert response.status_code == 200 and "approved" in response.content.decode()
    tr.refresh_from_db()
    assert tr.status == "approved" and tr.conditions == "Encrypt."
    other = make_user(
        "dpo", view=[world.estate.eu_central], approve_transfers=[world.estate.eu_central]
    )
    client.force_login(other)
    late = client.post(f"/transfers/{tr.pk}/reject/", {"reason": "no"}, follow=True)
    assert "already approved by dpo-eu" in late.content.decode()
    api = client.post(
        f"/api/v1/transfers/requests/{tr.pk}/reject/", {"reason": "no"}, "application/json"
    )
    assert api.status_code == 409 and "already approved" in api.json()["detail"]


def test_blocked_request_page_offers_no_approve_button(new_request, world, client):
    tr = new_request(
        importer=world.plain_us,
        destination_country=world.plain_us.country,
        importer_scope={"EU-US-DPF": False},  # stated outside the DPF scope (2023/1795)
    )
    client.force_login(world.estate.dpo_eu)
    page = client.get(f"/transfers/{tr.pk}/").content.decode()
    assert "NO_BASIS" in page and 'data-testid="approve"' not in page
    response = client.post(f"/transfers/{tr.pk}/approve/", follow=True)
    assert "cannot be approved" in response.content.decode()
    tr.refresh_from_db()
    assert tr.status == "submitted"


def test_auditor_reads_everything_and_changes_nothing(new_request, world, client):
    tr = new_request()
    client.force_login(world.estate.auditor)
    assert f'data-request="{tr.pk}"' in client.get("/transfers/").content.decode()
    assert client.get(f"/transfers/{tr.pk}/").status_code == 200
    assert client.post(f"/transfers/{tr.pk}/approve/").status_code == 403
    api = client.post(f"/api/v1/transfers/requests/{tr.pk}/approve/", {}, "application/json")
    assert api.status_code == 403
    assert client.get("/api/v1/transfers/requests/").json()["count"] == 1
    tr.refresh_from_db()
    assert tr.status == "submitted"


def test_requester_creates_through_the_form(world, client):
    client.force_login(world.estate.requester)
    response = client.post(
        "/transfers/new/",
        {
            "source_region": world.estate.eu_central.pk,
            "destination_country": "IN",
            "exporter": world.acme.pk,
            "exporter_role": "controller",
            "importer": world.bangalore.pk,
            "importer_role": "processor",
            "data_categories": ["user.contact.email"],
            "data_subjects": "customers",
            "purpose": "Labelling",
            "frequency": "recurring",
            "submit": "1",
        },
    )
    tr = TransferRequest.objects.get()
    assert response.status_code == 302 and response.url == f"/transfers/{tr.pk}/"
    assert tr.status == "submitted" and tr.policy_basis == "scc"


def test_api_create_submit_and_approve(world, client):
    client.force_login(world.estate.requester)
    created = client.post(
        "/api/v1/transfers/requests/",
        {
            "source_region": "eu-central",
            "destination_country": "IN",
            "exporter": world.acme.pk,
            "importer": world.bangalore.pk,
            "data_categories": ["user.contact.email"],
            "data_subjects": "customers",
            "purpose": "Labelling",
            "frequency": "recurring",
        },
        "application/json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["status"] == "draft"
    submitted = client.post(f"/api/v1/transfers/requests/{pk}/submit/")
    assert submitted.json()["status"] == "submitted"
    client.force_login(world.estate.dpo_eu)
    approved = client.post(
        f"/api/v1/transfers/requests/{pk}/approve/", {"conditions": "ok"}, "application/json"
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved"


# --- the DPO queue ---------------------------------------------------------------------------


def test_queue_filters_and_sorts_by_age(new_request, world, client):
    first = new_request(purpose="first")
    special = new_request(purpose="special", data_categories=[world.health])
    blocked = new_request(
        purpose="blocked",
        importer=world.plain_us,
        destination_country=world.plain_us.country,
        importer_scope={"EU-US-DPF": False},
    )
    west = new_request(purpose="west", source_region=world.estate.eu_west)
    client.force_login(world.estate.dpo_eu)

    def listed(query=""):
        page = client.get("/transfers/" + query).content.decode()
        return [
            pk
            for pk in (first.pk, special.pk, blocked.pk, west.pk)
            if f'data-request="{pk}"' in page
        ]

    page = client.get("/transfers/").content.decode()
    positions = [page.index(f'data-request="{t.pk}"') for t in (first, special, blocked, west)]
    assert positions == sorted(positions)  # oldest first
    assert listed("?special=yes") == [special.pk]
    assert listed("?basis=blocked") == [blocked.pk]
    assert listed("?basis=scc&region=eu-central") == [first.pk, special.pk]
    assert listed("?region=eu-west") == [west.pk]
    services.transfer_request_approve(request=first, by=world.estate.dpo_eu)
    assert first.pk not in listed()
    assert first.pk in listed("?status=approved")


def test_queue_runs_the_same_number_of_queries_for_few_and_many(new_request, world, client):
    client.force_login(world.estate.dpo_eu)
    client.get("/transfers/")  # warm caches (session, content types)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/transfers/").status_code == 200
        return len(ctx.captured_queries)

    for _ in range(3):
        new_request(data_categories=[world.email, world.name])
    few = count()
    for i in range(25):
        new_request(purpose=f"flow {i}", data_categories=[world.email, world.health])
    assert count() == few


def test_dashboard_shows_the_transfers_section_to_dpos(new_request, world, client):
    new_request()
    client.force_login(world.estate.dpo_eu)
    page = client.get("/").content.decode()
    assert 'data-testid="transfers-panel"' in page
    client.force_login(world.estate.ml_engineer)
    assert 'data-testid="transfers-panel"' not in client.get("/").content.decode()


def test_mechanism_pages_and_end_form(world, client):
    client.force_login(world.estate.dpo_eu)
    listing = client.get("/transfers/mechanisms/").content.decode()
    assert 'data-mechanism="eu-us-privacy-shield"' in listing and "verify" in listing
    response = end_through_the_page(client, world.scc)
    assert response.status_code == 302
    world.scc.refresh_from_db()
    assert world.scc.status == "revoked"
    swiss = Mechanism.objects.get(key="eu-adequacy-CH")
    client.force_login(world.estate.requester)
    denied = client.post(
        f"/routing/drill/{swiss.pk}/", {"status": "revoked", "reason": "x", "action": "simulate"}
    )
    assert denied.status_code == 403
    swiss.refresh_from_db()
    assert swiss.status == "in_force"
