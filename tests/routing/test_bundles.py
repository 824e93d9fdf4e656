"""The table travels in every region's bundle, and a change of route reaches all of them."""

from agents.routing import resolve
from controlplane.distribution import services as distribution
from controlplane.distribution.models import ConfigBundle
from controlplane.transfers import policy as p
from controlplane.transfers import services as transfer_services
from controlplane.transfers.models import Mechanism
from regions.models import Region, ResidencyRule
from regions.services import estate_object_save


def publish_all():
    for region in Region.objects.all():
        distribution.publish_region(region=region)


def latest_table(region):
    bundle = ConfigBundle.objects.filter(region=region).latest()
    return bundle.version, bundle.payload["content"]["routing"]


def routed_regions(table, country="DE"):
    return [r["region"] for r in resolve(table, country)["routes"]]


def test_every_bundle_carries_the_same_table(routed, bundle_keys):
    publish_all()
    tables = [latest_table(r)[1] for r in Region.objects.all()]
    assert all(t == tables[0] for t in tables)
    assert routed_regions(tables[0]) == ["eu-central", "eu-west", "uk-south"]
    assert "on" not in tables[0]  # content changes only when a route does


def test_after_a_mechanism_ends_the_new_route_reaches_every_region(
    routed, bundle_keys, django_capture_on_commit_callbacks
):
    tr = routed.approved_transfer()
    publish_all()
    for region in Region.objects.all():
        assert "us-east" in routed_regions(latest_table(region)[1])
    with django_capture_on_commit_callbacks(execute=True):
        transfer_services.mechanism_end(
            mechanism=tr.policy_mechanism,
            by=routed.admin,
            status=p.REVOKED,
            reason="Invalidated.",
        )
    for region in Region.objects.all():
        version, table = latest_table(region)
        assert version == 2, region.slug
        assert "us-east" not in routed_regions(table), region.slug


def test_an_adequacy_decision_ending_with_no_transfer_on_it_still_reaches_every_region(
    routed, bundle_keys, django_capture_on_commit_callbacks
):
    publish_all()
    uk = Mechanism.objects.get(
        kind="adequacy", from_jurisdiction__code="EEA", to_country__code="GB", status="in_force"
    )
    with django_capture_on_commit_callbacks(execute=True):
        transfer_services.mechanism_end(
            mechanism=uk, by=routed.admin, status=p.SUSPENDED, reason="Drill."
        )
    for region in Region.objects.all():
        version, table = latest_table(region)
        assert version == 2 and routed_regions(table) == ["eu-central", "eu-west"], region.slug


def test_a_change_that_moves_no_route_republishes_no_other_region(
    routed, bundle_keys, django_capture_on_commit_callbacks
):
    publish_all()
    rule = ResidencyRule.objects.filter(region=routed.eu_central).order_by("position").last()
    rule.contract_tag = "analytics"
    with django_capture_on_commit_callbacks(execute=True):
        estate_object_save(instance=rule, by=routed.admin)
    versions = {r.slug: latest_table(r)[0] for r in Region.objects.all()}
    assert versions.pop("eu-central") == 2
    assert set(versions.values()) == {1}


def test_after_ending_a_mechanism_the_routing_table_is_built_twice_whatever_the_regions(
    routed, bundle_keys, django_capture_on_commit_callbacks, monkeypatch
):
    """Once for the bundles of every touched region, once to check the others. Each region's
    bundle used to build it, and inner atomic blocks registered a second routing check."""
    from controlplane.routing import selectors

    tr = routed.approved_transfer()
    publish_all()
    builds = []
    real = selectors.routing_table
    monkeypatch.setattr(selectors, "routing_table", lambda **kw: builds.append(1) or real(**kw))
    with django_capture_on_commit_callbacks(execute=True):
        transfer_services.mechanism_end(
            mechanism=tr.policy_mechanism, by=routed.admin, status=p.REVOKED, reason="Gone."
        )
    assert len(builds) == 2
    for region in Region.objects.all():
        assert latest_table(region)[0] == 2, region.slug  # and every region got the new table
