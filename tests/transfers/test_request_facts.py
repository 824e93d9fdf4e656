"""Issue 17 point 5: the facts a request can state, through the API, the web form and the
stored request alike; bad input is a 400 naming the field and changes nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from controlplane.transfers.models import Party, TransferRequest
from regions.models import Country

pytestmark = pytest.mark.django_db

EVALUATE = "/api/v1/transfers/evaluate"
REQUESTS = "/api/v1/transfers/requests/"

DRY_RUN = {
    "source_region": "eu-central",
    "destination_country": "JP",
    "exporter": {"name": "Acme GmbH", "country": "DE", "role": "controller"},
    "importer": {"name": "Sakura KK", "country": "JP", "role": "processor"},
    "data_categories": ["user.contact.email"],
    "frequency": "recurring",
}


@pytest.fixture
def sakura(world):
    return Party.objects.create(
        name="Sakura KK", country=Country.objects.get(code="JP"), role="processor"
    )


def body_for(world, importer, **facts):
    return {
        "source_region": "eu-central",
        "destination_country": importer.country.code,
        "exporter": world.acme.pk,
        "importer": importer.pk,
        "data_categories": ["user.contact.email"],
        "data_subjects": "customers",
        "purpose": "Support",
        "frequency": "recurring",
        **facts,
    }


def codes(answer):
    return {f["code"]: f["severity"] for f in answer["findings"]}


def test_dry_run_scope_answer_turns_a_condition_into_a_verdict(world, client):
    # Decision (EU) 2019/419: APPI business operators. Unanswered: a condition; yes: covered;
    # a public body (stated): refused.
    client.force_login(world.estate.requester)
    unanswered = client.post(EVALUATE, DRY_RUN, "application/json").json()
    assert codes(unanswered)["ADEQUACY_SCOPE_UNCONFIRMED"] == "condition"
    assert unanswered["allowed"] and unanswered["conditions"] == ["ADEQUACY_SCOPE_UNCONFIRMED"]
    yes = dict(DRY_RUN, importer=dict(DRY_RUN["importer"], scope={"appi_business_operator": True}))
    answer = client.post(EVALUATE, yes, "application/json").json()
    assert answer["allowed"] and answer["conditions"] == []
    public = dict(DRY_RUN, importer=dict(DRY_RUN["importer"], hints=["public_authority"]))
    assert client.post(EVALUATE, public, "application/json").json()["allowed"] is False


def test_dry_run_states_art9_tia_derogation_facts_and_onward_legs(world, client):
    client.force_login(world.estate.requester)
    body = dict(
        DRY_RUN,
        destination_country="IN",
        importer={"id": world.bangalore.pk},
        exporter={"id": world.acme.pk},
        data_categories=["user.health_and_medical"],
        art9_condition="h",
        tia={"on": str(timezone.localdate() - timedelta(days=3)), "outcome": "do_not_transfer"},
        chosen_mechanism="scc-acme-bangalore",
        onward=[{"name": "Dragon Data Co", "country": "CN", "role": "processor"}],
    )
    answer = client.post(EVALUATE, body, "application/json").json()
    found = codes(answer)
    assert found["ART9_CONDITION_STATED"] == "info"
    assert found["TIA_NEGATIVE"] == "blocking"  # the request's own TIA (EDPB Recs 01/2020)
    assert answer["allowed"] is False


@pytest.mark.parametrize(
    "change, path",
    [
        ({"importer": dict(DRY_RUN["importer"], scope={"fairy_certified": True})}, "importer"),
        # Art. 3(2) is for exporters NOT established in the Union: contradictory origin facts.
        (
            {"exporter": dict(DRY_RUN["exporter"], scope={"subject_to_gdpr_art3_2": True})},
            "exporter",
        ),
        ({"art9_condition": "z"}, "art9_condition"),
        ({"derogation_facts": {"mostly_harmless": True}}, "derogation_facts"),
        ({"tia": {"on": "2026-01-01", "outcome": "looks_fine"}}, "tia"),
        ({"frequency": "sometimes"}, "frequency"),
        ({"onward": [{"name": "X", "country": "QQ", "role": "processor"}]}, "onward"),
    ],
    ids=["unknown-scope", "contradictory-origin", "art9", "derogation-fact", "tia", "freq", "leg"],
)
def test_dry_run_bad_facts_are_a_400_naming_the_field(world, client, change, path):
    client.force_login(world.estate.requester)
    answer = client.post(EVALUATE, dict(DRY_RUN, **change), "application/json")
    assert answer.status_code == 400
    assert path in answer.json(), answer.json()


def test_api_request_stores_its_facts_and_the_engine_uses_them(world, client, sakura):
    client.force_login(world.estate.requester)
    created = client.post(
        REQUESTS,
        body_for(world, sakura, importer_scope={"appi_business_operator": True}),
        "application/json",
    )
    assert created.status_code == 201, created.content
    tr = TransferRequest.objects.get(pk=created.json()["id"])
    assert tr.importer_scope == {"appi_business_operator": True}
    assert tr.policy_allowed and tr.conditions_to_confirm == []


@pytest.mark.parametrize(
    "facts, field",
    [
        ({"importer_scope": {"fairy_certified": True}}, "importer_scope"),
        ({"importer_scope": {"appi_business_operator": "maybe"}}, "importer_scope"),
        ({"derogation_facts": {"mostly_harmless": True}}, "derogation_facts"),
        ({"art9_condition": "z"}, "art9_condition"),
        ({"tia_on": "2026-01-01"}, "tia_outcome"),
        ({"tia_on": "2026-01-01", "tia_outcome": "looks_fine"}, "tia_outcome"),
        ({"onward_transfers": [{"party": 999999}]}, "onward_transfers"),
        ({"onward_transfers": [{"who": "them"}]}, "onward_transfers"),
        ({"derogation": "because_we_can"}, "derogation"),
        ({"chosen_mechanism": "no-such-mechanism"}, "chosen_mechanism"),
        ({"exporter_scope": {"subject_to_gdpr_art3_2": True}}, "exporter_scope"),
    ],
    ids=[
        "unknown-scope",
        "scope-not-bool",
        "unknown-derogation-fact",
        "art9",
        "tia-half",
        "tia-outcome",
        "unknown-onward-party",
        "onward-shape",
        "derogation",
        "mechanism",
        "contradictory-origin",
    ],  # fmt: skip
)
def test_api_bad_request_facts_are_a_400_naming_the_field(world, client, sakura, facts, field):
    client.force_login(world.estate.requester)
    before = TransferRequest.objects.count()
    answer = client.post(REQUESTS, body_for(world, sakura, **facts), "application/json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json(), answer.json()
    assert TransferRequest.objects.count() == before


def test_web_form_asks_in_plain_language_and_drops_answers_that_do_not_apply(world, client, sakura):
    client.force_login(world.estate.requester)
    page = client.get("/transfers/new/").content.decode()
    assert "transfer-form.js" in page
    assert "personal information handling business operator" in page
    assert 'data-countries="JP"' in page and 'data-when="special"' in page
    response = client.post(
        "/transfers/new/",
        {
            "source_region": world.estate.eu_central.pk,
            "destination_country": "JP",
            "exporter": world.acme.pk,
            "exporter_role": "controller",
            "importer": sakura.pk,
            "importer_role": "processor",
            "data_categories": ["user.contact.email"],
            "data_subjects": "customers",
            "purpose": "Support",
            "frequency": "occasional",
            "importer__appi_business_operator": "yes",
            "importer__EU-US-DPF": "no",  # a US question: does not apply to a Japanese importer
            "onward_1": world.bangalore.pk,
            "submit": "1",
        },
    )
    tr = TransferRequest.objects.get()
    assert response.status_code == 302, response.content
    assert tr.importer_scope == {"appi_business_operator": True}
    assert tr.frequency == "occasional"
    assert tr.onward_transfers == [{"party": world.bangalore.pk, "role": "processor"}]
    client.force_login(world.estate.dpo_eu)
    detail = client.get(tr.get_absolute_url()).content.decode()
    assert 'data-testid="stated-facts"' in detail and "Declared, not verified" in detail


def test_dry_run_what_if_a_contract_were_signed(world, client):
    """The mechanism relied on can be stated in a dry run before it exists: SCC module 2
    (Decision 2021/914) with its TIA. An unknown module is a 400 naming the field."""
    client.force_login(world.estate.requester)
    body = dict(
        DRY_RUN,
        destination_country="IN",
        importer={"name": "Chennai Data Pvt Ltd", "country": "IN", "role": "processor"},
        what_if={
            "kind": "scc",
            "module": 2,
            "tia": {"on": str(timezone.localdate()), "outcome": "no_concerns"},
        },
    )
    answer = client.post(EVALUATE, body, "application/json").json()
    assert answer["allowed"] and answer["basis"] == "scc"
    wrong = client.post(
        EVALUATE, dict(body, what_if={"kind": "scc", "module": 1}), "application/json"
    )
    assert "SCC_MODULE_MISMATCH" in codes(wrong.json())
    bad = client.post(
        EVALUATE, dict(body, what_if={"kind": "scc", "module": 7}), "application/json"
    )
    assert bad.status_code == 400 and "module" in bad.json()["what_if"]
    unknown = client.post(
        EVALUATE, dict(body, what_if={"kind": "pinky_promise"}), "application/json"
    )
    assert unknown.status_code == 400 and "kind" in unknown.json()["what_if"]
