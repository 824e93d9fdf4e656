"""The routing table as a pure function: no database, microseconds per case."""

from dataclasses import replace
from datetime import date

import pytest

from agents.routing import RoutingInputError, RoutingTableError, resolve
from controlplane.routing import policy as rp
from controlplane.transfers import policy as tp
from controlplane.transfers import reference_data as ref

ON = date(2026, 11, 26)
COUNTRIES = {"DE": "EEA", "FR": "EEA", "NL": "EEA", "GB": "GB", "US": "US", "JP": "JP", "CH": "CH"}
REGIONS = [
    rp.RegionFacts("eu-central", "EEA", "DE"),
    rp.RegionFacts("eu-west", "EEA", "NL"),
    rp.RegionFacts("uk-south", "GB", "GB"),
    rp.RegionFacts("us-east", "US", "US"),
    rp.RegionFacts("ap-northeast", "JP", "JP"),
]
INPUTS = frozenset({"user.contact.email", "user.name"})


def endpoint(region, name="scoring", **values):
    defaults = dict(
        url=f"https://inference.{region}.example.com/v1/score",
        log_store="event-lake",
        input_categories=INPUTS,
    )
    return rp.EndpointFacts(region=region, name=name, **{**defaults, **values})


ENDPOINTS = [endpoint(r.slug) for r in REGIONS]
MECHANISMS = list(ref.adequacy_mechanisms())


def transfer(**values):
    defaults = dict(
        id="TR-1",
        source_jurisdiction="EEA",
        destination_country="US",
        destination_region="us-east",
        categories=frozenset({"user.contact", "user.name"}),
        basis="scc",
        mechanism="scc-acme-cloudy",
    )
    return rp.TransferInEffect(**{**defaults, **values})


def table(*, endpoints=ENDPOINTS, mechanisms=MECHANISMS, transfers=(), on=ON, regions=REGIONS):
    return rp.build_table(
        regions=regions,
        endpoints=endpoints,
        countries=COUNTRIES,
        mechanisms=mechanisms,
        transfers=list(transfers),
        on=on,
    )


def regions_for(t, jurisdiction):
    return [r["region"] for r in t.routes[jurisdiction]]


def test_a_german_user_is_served_in_the_eea_first_then_where_adequacy_reaches():
    t = table()
    assert regions_for(t, "EEA") == ["eu-central", "eu-west", "uk-south"]
    bases = [r["basis"] for r in t.routes["EEA"]]
    assert bases == ["same_jurisdiction", "same_jurisdiction", "adequacy"]
    uk = t.routes["EEA"][2]
    assert uk["code"] == "ADEQUACY_IN_FORCE" and uk["mechanism"]
    assert "in force" in uk["reason"]


def test_a_german_user_never_routes_to_a_region_without_a_basis():
    """The EU-US DPF covers certified importers only; no transfer exists: us-east is out.
    Japan's decision covers APPI business operators, which nobody confirmed for the operator
    of ap-northeast: a condition is not a basis either."""
    t = table()
    assert "us-east" not in regions_for(t, "EEA")
    cell = t.cells["EEA"]["us-east"]
    assert cell.basis is None and cell.code == "ADEQUACY_SCOPE_UNCONFIRMED"
    assert cell.reason.startswith("Only conditionally:")
    assert t.cells["EEA"]["ap-northeast"].basis is None
    answer = resolve(t.as_dict(), "DE")
    assert [r["region"] for r in answer["routes"]] == ["eu-central", "eu-west", "uk-south"]


def test_an_approved_transfer_covering_the_inputs_opens_a_route_with_its_reason():
    t = table(transfers=[transfer()])
    assert regions_for(t, "EEA")[-1] == "us-east"
    route = t.routes["EEA"][-1]
    assert route["basis"] == "transfer" and route["transfer"] == "TR-1"
    assert route["covers"] == ["user.contact", "user.name"]
    assert "TR-1" in route["reason"] and "scc-acme-cloudy" in route["reason"]
    # Only for users of the transfer's source jurisdiction.
    assert "us-east" not in regions_for(t, "GB")


def test_a_transfer_that_does_not_cover_the_endpoints_inputs_opens_nothing():
    narrow = transfer(categories=frozenset({"user.contact.email"}))  # no user.name
    assert "us-east" not in regions_for(table(transfers=[narrow]), "EEA")
    # Nor for an endpoint that does not say what its requests carry.
    silent = [*ENDPOINTS[:3], endpoint("us-east", input_categories=frozenset())]
    assert "us-east" not in regions_for(table(endpoints=silent, transfers=[transfer()]), "EEA")


def test_a_category_not_covered_by_the_transfer_is_not_routed_there():
    t = table(transfers=[transfer()]).as_dict()
    covered = resolve(t, "DE", ["user.contact.email"])
    assert "us-east" in [r["region"] for r in covered["routes"]]
    health = resolve(t, "DE", ["user.contact.email", "user.health_and_medical"])
    assert "us-east" not in [r["region"] for r in health["routes"]]
    assert health["not_routed"] == [
        {"endpoint": "us-east/scoring", "reason": "TR-1 does not cover user.health_and_medical."}
    ]
    # Same jurisdiction and adequacy do not depend on categories.
    assert [r["region"] for r in health["routes"]][:2] == ["eu-central", "eu-west"]


def test_a_transfer_to_a_country_reaches_every_region_there_and_expiry_ends_it():
    to_country = transfer(destination_region=None)
    assert "us-east" in regions_for(table(transfers=[to_country]), "EEA")
    expired = transfer(expires_on=ON)
    assert "us-east" not in regions_for(table(transfers=[expired]), "EEA")


def test_when_an_adequacy_decision_ends_the_route_goes_and_the_cell_says_why():
    uk_decision = next(
        m
        for m in MECHANISMS
        if m.from_jurisdiction == "EEA" and m.to_country == "GB" and m.problem_on(ON) is None
    )
    ended = replace(uk_decision, status=tp.REVOKED, ends_on=ON)
    others = [m for m in MECHANISMS if m.key != uk_decision.key]
    t = table(mechanisms=[*others, ended])
    assert "uk-south" not in regions_for(t, "EEA")
    assert t.cells["EEA"]["uk-south"].code == "MECHANISM_REVOKED"
    assert uk_decision.name in t.cells["EEA"]["uk-south"].reason


def test_a_jurisdiction_with_no_lawful_endpoint_is_a_gap():
    t = table()
    assert t.routes["CH"] and "CH" not in t.gaps()
    only_eu = table(endpoints=[endpoint("eu-central")])
    assert "US" in only_eu.gaps() and "JP" in only_eu.gaps()
    answer = resolve(only_eu.as_dict(), "US")
    assert answer["gap"] is True and answer["routes"] == []
    assert only_eu.as_dict()["jurisdictions"]["US"]["gap"] is True


def test_endpoints_without_a_log_store_or_not_serving_are_never_routed_and_listed():
    endpoints = [
        endpoint("eu-central", log_store=None),
        endpoint("eu-west", serves_traffic=False),
        endpoint("uk-south"),
    ]
    t = table(endpoints=endpoints)
    assert regions_for(t, "EEA") == ["uk-south"]
    assert {u["endpoint"]: u["reason"].split(":")[0] for u in t.unroutable} == {
        "eu-central/scoring": "no inference log store in its region",
        "eu-west/scoring": "not serving",
    }


def test_order_within_a_basis_priority_then_latency_and_the_users_country_first():
    endpoints = [
        endpoint("eu-central", priority=100, latency_hint_ms=40),
        endpoint("eu-west", priority=100, latency_hint_ms=10),
        endpoint("eu-west", name="bulk", priority=200),
    ]
    t = table(endpoints=endpoints)
    assert [r["endpoint"] for r in t.routes["EEA"]] == [
        "eu-west/scoring",
        "eu-central/scoring",
        "eu-west/bulk",
    ]
    # A German user: the endpoint in Germany first, the legal order otherwise kept.
    german = resolve(t.as_dict(), "DE")
    assert [r["endpoint"] for r in german["routes"]] == [
        "eu-central/scoring",
        "eu-west/scoring",
        "eu-west/bulk",
    ]
    french = resolve(t.as_dict(), "FR")
    assert [r["endpoint"] for r in french["routes"]][0] == "eu-west/scoring"


def test_resolve_filters_by_model_and_refuses_bad_questions_naming_the_field():
    endpoints = [
        endpoint("eu-central", models=(rp.ModelServed("fraud-scoring", "1.1.0"),)),
        endpoint("eu-west"),
    ]
    t = table(endpoints=endpoints).as_dict()
    assert [r["region"] for r in resolve(t, "DE", model="fraud-scoring")["routes"]] == [
        "eu-central"
    ]
    for args, field in [
        (("de",), "country"),
        (("DEU",), "country"),
        (("XX",), "country"),
        (("DE", ["User.Contact"]), "category"),
        (("DE", ["a" * 3 + ".b" * 20]), "category"),
        (("DE", (), "Fraud Scoring!"), "model"),
    ]:
        with pytest.raises(RoutingInputError) as caught:
            resolve(t, *args)
        assert caught.value.field == field
    with pytest.raises(RoutingTableError):
        resolve({"format": 99}, "DE")


def test_the_engine_is_asked_once_per_distinct_pair_not_per_country(monkeypatch):
    """Two regions in one country share the engine's answer (the bench relies on it)."""
    calls = []
    real = tp.evaluate
    monkeypatch.setattr(tp, "evaluate", lambda *a: calls.append(1) or real(*a))
    t = table(regions=[*REGIONS, rp.RegionFacts("eu-central-2", "EEA", "DE")])
    jurisdictions = len(set(COUNTRIES.values()))
    assert len(calls) == jurisdictions * len(REGIONS)
    assert t.cells["GB"]["eu-central-2"] == t.cells["GB"]["eu-central"]
