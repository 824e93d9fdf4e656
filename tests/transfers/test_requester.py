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


def _slots(html: str) -> dict[str, list[str]]:
    """The live check's answer: each out-of-band error slot and the messages in it."""
    import re

    slots = {}
    for slot, inner in re.findall(
        r'<div class="field-errors" id="id_(\w+)-errors" hx-swap-oob="true">(.*?)</div>', html
    ):
        slots[slot] = re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', inner)
    return slots


def test_the_live_check_says_the_submit_contradictions_and_saves_nothing(world, client):
    """One rule, one place: the check answers the form's own clean(), not a copy of it."""
    client.force_login(world.estate.requester)
    past = (timezone.localdate() - timedelta(days=2)).isoformat()
    data = _form(world, importer=world.acme.pk, requested_expiry=past)
    check = client.post("/transfers/new/check/", data)
    assert check.status_code == 200
    slots = _slots(check.content.decode())
    assert len(slots["importer"]) == 1 and "also the exporter" in slots["importer"][0]
    assert len(slots["requested_expiry"]) == 1 and "in the past" in slots["requested_expiry"][0]
    assert slots["purpose"] == [] and slots["data_subjects"] == []  # every slot is answered
    submit = client.post("/transfers/new/", data).content.decode()
    for messages in slots.values():
        for message in messages:
            assert message in submit
    assert not TransferRequest.objects.exists()


def test_the_live_check_keeps_quiet_about_what_is_not_filled_in_yet(world, client):
    client.force_login(world.estate.requester)
    started = {"exporter": world.acme.pk, "importer": world.acme.pk}
    slots = _slots(client.post("/transfers/new/check/", started).content.decode())
    assert "also the exporter" in slots["importer"][0]
    quiet = {name: messages for name, messages in slots.items() if name != "importer"}
    assert all(messages == [] for messages in quiet.values()), quiet
    # Submitting the same says what is missing.
    submit = client.post("/transfers/new/", started)
    assert submit.status_code == 400
    page = submit.content.decode()
    assert 'data-testid="error-purpose"' in page
    assert "Give a destination region or a destination country." in page


def test_the_live_check_answers_posts_only(world, client):
    client.force_login(world.estate.requester)
    assert client.get("/transfers/new/check/").status_code == 405
    client.logout()
    assert client.post("/transfers/new/check/", {}).status_code == 302  # to the login page
