"""The table built from the database: the register's decisions move the routes."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from controlplane.routing import selectors
from controlplane.routing.services import endpoint_routing_update
from controlplane.transfers import policy as p
from controlplane.transfers import services as transfer_services
from regions.models import DataStore, InferenceEndpoint
from regions.services import estate_object_save


def regions_for(jurisdiction):
    table = selectors.routing_table_dict()
    return [r["region"] for r in table["jurisdictions"][jurisdiction]["routes"]]


def test_german_users_never_reach_us_east_without_a_basis(routed):
    assert "us-east" not in regions_for("EEA")
    cell = selectors.routing_table().cells["EEA"]["us-east"]
    assert cell.basis is None and cell.code == "ADEQUACY_SCOPE_UNCONFIRMED"


def test_an_approved_transfer_opens_us_east_and_ending_its_mechanism_closes_it(routed):
    tr = routed.approved_transfer()
    route = selectors.routing_table_dict()["jurisdictions"]["EEA"]["routes"][-1]
    assert route["region"] == "us-east" and route["transfer"] == f"TR-{tr.pk}"
    assert route["mechanism"] == tr.policy_mechanism.key  # the DPF decision
    # Schrems II, again: the decision the transfer relies on falls.
    transfer_services.mechanism_end(
        mechanism=tr.policy_mechanism,
        by=routed.admin,
        status=p.REVOKED,
        reason="Invalidated by the Court of Justice.",
    )
    assert "us-east" not in regions_for("EEA")


def test_a_transfer_not_covering_what_the_endpoint_receives_opens_nothing(routed):
    routed.approved_transfer(categories=("user.contact.email",))  # the endpoint also takes names
    assert "us-east" not in regions_for("EEA")


def test_an_endpoint_that_stops_serving_or_loses_its_log_store_leaves_the_table(routed):
    endpoint = InferenceEndpoint.objects.get(region=routed.eu_west, name="scoring")
    endpoint_routing_update(endpoint=endpoint, by=routed.admin, serves_traffic=False)
    assert "eu-west" not in regions_for("EEA")
    unroutable = selectors.routing_table_dict()["unroutable"]
    assert unroutable == [
        {"endpoint": "eu-west/scoring", "region": "eu-west", "reason": "not serving"}
    ]


def test_a_log_store_in_another_region_is_refused_and_changes_nothing(routed):
    import pytest
    from django.core.exceptions import ValidationError

    endpoint = InferenceEndpoint.objects.get(region=routed.eu_central, name="scoring")
    elsewhere = DataStore.objects.get(region=routed.us_east, name="event-lake")
    before = endpoint.log_store_id
    with pytest.raises(ValidationError) as caught:
        endpoint_routing_update(endpoint=endpoint, by=routed.admin, log_store=elsewhere)
    assert "log_store" in caught.value.message_dict
    endpoint.refresh_from_db()
    assert endpoint.log_store_id == before
    endpoint.log_store = elsewhere
    with pytest.raises(ValidationError):
        estate_object_save(instance=endpoint, by=routed.admin)


def test_reading_the_inputs_takes_a_fixed_number_of_queries(routed):
    routed.approved_transfer()
    selectors.routing_table()
    with CaptureQueriesContext(connection) as small:
        selectors.routing_table()
    for i in range(6):
        estate_object_save(
            instance=InferenceEndpoint(
                region=routed.eu_central, name=f"extra-{i}", url=f"https://e{i}.example.com/"
            ),
            by=routed.admin,
        )
    routed.approved_transfer(purpose="Second flow")
    routed.approved_transfer(purpose="Third flow", destination_region=None)
    with CaptureQueriesContext(connection) as large:
        selectors.routing_table()
    assert len(large) == len(small), [q["sql"][:80] for q in large]
