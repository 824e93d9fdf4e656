import pytest

from controlplane.audit.models import AuditEvent
from regions.models import DataStore, ResidencyRule

pytestmark = pytest.mark.django_db


def test_creating_changing_and_deleting_a_data_store_is_audited(estate, client):
    client.force_login(estate.admin)
    response = client.post(
        "/api/v1/data-stores/",
        {
            "region": "eu-central",
            "name": "features",
            "kind": "feature_store",
            "location_uri": "s3://features-eu-central/",
            "retention_days": 30,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    store_id = response.json()["id"]
    created = AuditEvent.objects.filter(action="datastore.created", object_id=str(store_id)).get()
    assert created.actor_label == "admin" and created.data["retention_days"] == 30

    response = client.patch(
        f"/api/v1/data-stores/{store_id}/", {"retention_days": 60}, content_type="application/json"
    )
    assert response.status_code == 200
    changed = AuditEvent.objects.get(action="datastore.changed", object_id=str(store_id))
    assert changed.data == {"retention_days": {"from": 30, "to": 60}}

    assert client.delete(f"/api/v1/data-stores/{store_id}/").status_code == 204
    assert AuditEvent.objects.filter(action="datastore.deleted", object_id=str(store_id)).exists()
    assert not DataStore.objects.filter(pk=store_id).exists()


def test_bad_input_is_a_400_with_field_messages_and_changes_nothing(estate, client):
    client.force_login(estate.admin)
    events = AuditEvent.objects.count()
    response = client.post(
        "/api/v1/residency-rules/",
        {"region": "eu-central", "position": 1, "home_jurisdiction": "XX"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "home_jurisdiction" in response.json()
    response = client.post(
        "/api/v1/data-stores/",
        {
            "region": "eu-central",
            "name": "n",
            "kind": "floppy",
            "location_uri": "x",
            "retention_days": 0,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert {"kind", "retention_days"} <= set(response.json())
    assert AuditEvent.objects.count() == events
    assert ResidencyRule.objects.filter(region=estate.eu_central).count() == 4


def test_a_dpo_cannot_write_into_a_region_they_cannot_see(estate, client, make_user):
    from django.contrib.auth.models import Permission

    editor = make_user("dpo", view=[estate.eu_central])
    editor.user_permissions.add(Permission.objects.get(codename="add_datastore"))
    client.force_login(editor)
    response = client.post(
        "/api/v1/data-stores/",
        {
            "region": "us-east",
            "name": "n",
            "kind": "queue",
            "location_uri": "q://x",
            "retention_days": 3,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "region" in response.json()


def test_openapi_schema_and_docs_are_served(estate, client):
    client.force_login(estate.dpo_eu)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/regions/" in schema.content
    assert client.get("/api/docs/").status_code == 200
