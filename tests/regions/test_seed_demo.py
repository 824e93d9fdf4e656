import pytest
from django.core import serializers
from django.core.management import call_command

from controlplane.audit.models import AuditEvent
from regions.models import DataStore, InferenceEndpoint, KeyReference, Region, ResidencyRule

pytestmark = pytest.mark.django_db


def _dump():
    models = [Region, DataStore, KeyReference, InferenceEndpoint, ResidencyRule]
    return [serializers.serialize("json", m.objects.order_by("pk")) for m in models]


def test_seed_demo_twice_changes_nothing_the_second_time():
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first, events = _dump(), AuditEvent.objects.count()
    assert Region.objects.count() == 5
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert _dump() == first
    assert AuditEvent.objects.count() == events


def test_demo_estate_is_realistic(estate):
    assert {r.slug: r.jurisdiction.code for r in Region.objects.select_related("jurisdiction")} == {
        "eu-central": "EEA",
        "eu-west": "EEA",
        "uk-south": "GB",
        "us-east": "US",
        "ap-northeast": "JP",
    }
    for region in Region.objects.all():
        assert region.data_stores.exists() and region.keys.exists() and region.endpoints.exists()
        assert region.residency_rules.exists()
    # DPOs are scoped to some regions only.
    assert not estate.dpo_eu.has_perm("regions.view_region", estate.us_east)
    assert estate.dpo_eu.has_perm("regions.approve_transfers", estate.eu_central)


def test_reference_data_covers_iso_3166_and_the_eea(db):
    from regions.models import Country, DataCategory

    assert Country.objects.count() == 249
    assert Country.objects.filter(jurisdiction__code="EEA").count() == 30
    assert Country.objects.get(code="NO").jurisdiction.code == "EEA"
    assert Country.objects.get(code="CH").jurisdiction.code == "CH"
    assert DataCategory.objects.get(key="user.health_and_medical.genetic").is_special_category
    assert DataCategory.objects.get(key="user.demographic.religious_belief").is_special_category
    assert not DataCategory.objects.get(key="user.contact.email").is_special_category
    assert DataCategory.objects.get(key="user.criminal_history").is_criminal_offence_data
