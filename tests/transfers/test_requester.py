"""The requester's own requests: edit and delete drafts, withdraw, start again from a rejection;
the request form reports contradictions next to their fields and keeps what was typed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from controlplane.audit.models import AuditEvent
from controlplane.errors import ConflictError, NotAllowed
from controlplane.transfers import services
from controlplane.transfers.models import TransferRequest

pytestmark = pytest.mark.django_db


def _form(world, **overrides):
    data = {
        "source_region": world.estate.eu_central.pk,
        "destination_country": "IN",
        "exporter": world.acme.pk,
        "exporter_role": "controller",
        "importer": world.bangalore.pk,
        "importer_role": "processor",
        "data_categories": ["user.contact.email"],
        "data_subjects": "customers",
        "purpose": "Label support tickets in Bangalore",
        "frequency": "recurring",
    }
    data.update(overrides)
    return data


def test_contradictions_are_reported_at_once_next_to_their_fields_and_input_kept(world, client):
    client.force_login(world.estate.requester)
    past = (timezone.localdate() - timedelta(days=2)).isoformat()
    response = client.post(
        "/transfers/new/",
        _form(world, importer=world.acme.pk, requested_expiry=past, purpose="Keep this text"),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert page.count('data-testid="error-importer"') == 1
    assert "also the exporter" in page
    assert page.count('data-testid="error-requested_expiry"') == 1 and "in the past" in page
    assert "Keep this text" in page  # what the person typed stays
    assert 'value="user.contact.email" checked' in page
    assert not TransferRequest.objects.exists()


def test_requester_edits_then_deletes_a_draft(world, new_request, client):
    e = world.estate
    draft = new_request(submit=False)
    client.force_login(e.requester)
    page = client.get(f"/transfers/{draft.pk}/edit/").content.decode()
    assert "Label support tickets" in page
    response = client.post(f"/transfers/{draft.pk}/edit/", _form(world, purpose="New purpose"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.purpose == "New purpose" and draft.status == "draft"
    changed = AuditEvent.objects.get(action="transfer.draft_changed", object_id=str(draft.pk))
    assert changed.data["changes"]["purpose"] == {
        "from": "Label support tickets",
        "to": "New purpose",
    }
    client.force_login(e.dpo_eu)
    assert client.post(f"/transfers/{draft.pk}/delete/").status_code == 403
    client.force_login(e.requester)
    client.post(f"/transfers/{draft.pk}/delete/")
    assert not TransferRequest.objects.filter(pk=draft.pk).exists()
    assert AuditEvent.objects.filter(action="transfer.draft_deleted").count() == 1


def test_withdrawing_a_submitted_request_takes_it_off_the_queue(world, new_request, client):
    e = world.estate
    tr = new_request()
    with pytest.raises(NotAllowed):
        services.transfer_request_withdraw(request=tr, by=e.dpo_eu)
    client.force_login(e.requester)
    client.post(f"/transfers/{tr.pk}/withdraw/", {"reason": "Not needed after all"})
    tr.refresh_from_db()
    assert tr.status == "withdrawn" and tr.end_reason == "Not needed after all"
    client.force_login(e.dpo_eu)
    assert f'data-request="{tr.pk}"' not in client.get("/transfers/").content.decode()
    with pytest.raises(ConflictError):
        services.transfer_request_approve(request=tr, by=e.dpo_eu)
    with pytest.raises(ConflictError):
        services.transfer_request_withdraw(request=tr, by=e.requester)


def test_a_rejected_request_starts_a_new_one_with_its_answers(world, new_request, client):
    e = world.estate
    tr = new_request(purpose="First try")
    services.transfer_request_reject(request=tr, by=e.dpo_eu, reason="Say who sees the data")
    client.force_login(e.requester)
    detail = client.get(f"/transfers/{tr.pk}/").content.decode()
    assert f"/transfers/new/?from={tr.pk}" in detail
    page = client.get(f"/transfers/new/?from={tr.pk}").content.decode()
    assert "First try" in page and 'value="user.contact.email" checked' in page
    client.force_login(e.dpo_uk)
    assert client.get(f"/transfers/new/?from={tr.pk}").status_code in (403, 404)
