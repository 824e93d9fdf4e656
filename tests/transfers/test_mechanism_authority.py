"""Who may end a mechanism, what the page shows them, and error codes that reveal nothing.

Issue 13, points 1, 4 and 6 (403 versus 404).
"""

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from controlplane.errors import NotAllowed
from controlplane.transfers import policy as p
from controlplane.transfers import services
from controlplane.transfers.models import Mechanism
from tests.transfers.pages import drill_url as _drill
from tests.transfers.pages import end_through_the_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def relied_on(new_request, world):
    """The EU SCCs Acme (DE) / Bangalore (IN), relied on by an approved eu-central transfer."""
    tr = new_request()
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    return tr


def _end_form(**overrides):
    return {"status": "revoked", "reason": "Contract terminated", **overrides}


# --- 1. Who may end a mechanism ---------------------------------------------------------------


def test_a_dpo_of_another_regime_cannot_end_eu_sccs_others_rely_on(relied_on, world):
    with pytest.raises(NotAllowed, match="regions that rely on"):
        services.mechanism_end(
            mechanism=world.scc, by=world.estate.dpo_uk, status=p.REVOKED, reason="x"
        )
    world.scc.refresh_from_db()
    relied_on.refresh_from_db()
    assert world.scc.status == "in_force" and relied_on.status == "approved"


def test_the_regime_dpo_and_superusers_may_end_it(relied_on, world):
    assert services.may_end_mechanism(world.estate.dpo_eu, world.scc)
    assert services.may_end_mechanism(world.estate.admin, world.scc)
    assert not services.may_end_mechanism(world.estate.dpo_uk, world.scc)
    assert not services.may_end_mechanism(world.estate.dpo_us, world.scc)
    assert not services.may_end_mechanism(world.estate.auditor, world.scc)
    assert not services.may_end_mechanism(world.estate.requester, world.scc)


def test_a_dpo_whose_region_relies_on_a_foreign_mechanism_may_end_it(new_request, world, make_user):
    """The DPO of a region whose transfers rely on it decides too, whatever the regime."""
    tr = new_request()
    services.transfer_request_approve(request=tr, by=world.estate.dpo_eu)
    # Someone who approves for eu-central only (not the whole EEA regime's regions).
    eu_central_only = make_user(
        "dpo", view=[world.estate.eu_central], approve_transfers=[world.estate.eu_central]
    )
    eu_west_only = make_user(
        "dpo", view=[world.estate.eu_west], approve_transfers=[world.estate.eu_west]
    )
    assert services.may_end_mechanism(eu_central_only, world.scc)
    # eu-west is a region of the regime (EEA): its DPO may end it as well.
    assert services.may_end_mechanism(eu_west_only, world.scc)


def test_the_page_refuses_and_offers_no_end_form_to_the_uk_dpo(relied_on, world, client):
    client.force_login(world.estate.dpo_uk)
    page = client.get(f"/transfers/mechanisms/{world.scc.pk}/").content.decode()
    assert 'data-testid="end-form"' not in page
    response = client.post(_drill(world.scc), {**_end_form(), "action": "simulate"})
    assert response.status_code == 403
    world.scc.refresh_from_db()
    assert world.scc.status == "in_force"


def test_the_api_offers_no_way_to_end_or_change_a_mechanism(relied_on, world, client):
    client.force_login(world.estate.dpo_uk)
    url = f"/api/v1/transfers/mechanisms/{world.scc.pk}/"
    for method in (client.patch, client.put, client.delete):
        response = method(url, {"status": "revoked"}, content_type="application/json")
        assert response.status_code in (403, 405)
    world.scc.refresh_from_db()
    assert world.scc.status == "in_force"


def _admin_data(m: Mechanism) -> dict:
    data = {}
    for field in m._meta.get_fields():
        if (
            not getattr(field, "editable", False)
            or field.auto_created
            or field.name
            in ("status", "status_reason", "created_at", "updated_at", "expiry_warned_on")
        ):
            continue
        if field.many_to_many:
            data[field.name] = [obj.pk for obj in getattr(m, field.name).all()]
            continue
        value = field.value_from_object(m)
        if isinstance(value, bool):
            if value:
                data[field.name] = "on"
            continue
        if isinstance(value, list):
            import json

            data[field.name] = json.dumps(value)
            continue
        data[field.name] = "" if value is None else str(value)
    return data


def test_the_admin_refuses_a_staff_member_without_authority_over_it(
    relied_on, world, client, make_user
):
    staff = make_user(username="mechanism-clerk")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_mechanism", "change_mechanism"])
    )
    client.force_login(staff)
    data = _admin_data(world.scc)
    data["ends_on"] = (timezone.localdate() - timedelta(days=1)).isoformat()
    data["tia_outcome"] = p.TIA_DO_NOT_TRANSFER
    response = client.post(f"/admin/transfers/mechanism/{world.scc.pk}/change/", data)
    assert response.status_code == 403
    world.scc.refresh_from_db()
    relied_on.refresh_from_db()
    assert world.scc.ends_on is None and world.scc.tia_outcome == p.TIA_NO_CONCERNS
    assert relied_on.status == "approved"


# --- 1. Counts never hide what the person cannot see ------------------------------------------


def test_relying_transfers_in_unseen_regions_are_counted_not_hidden(relied_on, world, client):
    client.force_login(world.estate.dpo_uk)
    page = client.get(f"/transfers/mechanisms/{world.scc.pk}/").content.decode()
    assert f'data-request="{relied_on.pk}"' not in page  # no details of eu-central's transfer
    assert 'data-testid="relying-hidden"' in page
    assert "1 more in regions you cannot see" in page


# --- 4. The end of a mechanism is validated and confirmed -------------------------------------


def test_the_end_cannot_come_before_the_mechanism_began(relied_on, world):
    with pytest.raises(Exception, match="before it began|after the start") as error:
        services.mechanism_end(
            mechanism=world.scc,
            by=world.estate.dpo_eu,
            status=p.REVOKED,
            reason="Typo",
            ends_on=date(2023, 12, 31),
        )
    assert "ends_on" in getattr(error.value, "message_dict", {})
    world.scc.refresh_from_db()
    assert world.scc.status == "in_force"


def test_an_end_far_in_the_past_needs_a_stated_reason_for_backdating(relied_on, world):
    long_ago = timezone.localdate() - timedelta(days=200)
    with pytest.raises(Exception, match="backdat") as error:
        services.mechanism_end(
            mechanism=world.scc,
            by=world.estate.dpo_eu,
            status=p.REVOKED,
            reason="Terminated",
            ends_on=long_ago,
        )
    assert "backdated_because" in error.value.message_dict
    world.scc.refresh_from_db()
    assert world.scc.status == "in_force"
    services.mechanism_end(
        mechanism=world.scc,
        by=world.estate.dpo_eu,
        status=p.REVOKED,
        reason="Terminated",
        ends_on=long_ago,
        backdated_because="We learned of the termination only now.",
    )
    world.scc.refresh_from_db()
    assert world.scc.status == "revoked" and world.scc.ends_on == long_ago


def test_ending_asks_for_confirmation_with_the_impact_repeated(relied_on, world, client):
    client.force_login(world.estate.dpo_eu)
    page = client.get(f"/transfers/mechanisms/{world.scc.pk}/").content.decode()
    tag = page[page.rindex("<form", 0, page.index('data-testid="end-form"')) :]
    assert f'action="{_drill(world.scc)}"' in tag[: tag.index(">")]
    first = client.post(_drill(world.scc), {**_end_form(), "action": "simulate"})
    assert first.status_code == 200
    page = first.content.decode()
    assert 'data-testid="impact"' in page
    assert f'data-id="TR-{relied_on.pk}"' in page
    assert 'class="danger"' in page
    world.scc.refresh_from_db()
    assert world.scc.status == "in_force"  # nothing changed before the confirmation
    end_through_the_page(client, world.scc)
    world.scc.refresh_from_db()
    relied_on.refresh_from_db()
    assert world.scc.status == "revoked" and relied_on.status == "suspended"


def test_the_impact_shown_is_what_ending_does_for_an_end_date_ahead(relied_on, world, client):
    """Dependents are judged as of today: with an end date ahead they keep their basis until
    then. The impact page says so (the former preview judged them on the end date and listed
    them as "will be suspended", which ending then did not do)."""
    ahead = (timezone.localdate() + timedelta(days=20)).isoformat()
    client.force_login(world.estate.dpo_eu)
    first = client.post(_drill(world.scc), {**_end_form(ends_on=ahead), "action": "simulate"})
    assert first.status_code == 200
    assert f'data-id="TR-{relied_on.pk}"' not in first.content.decode()
    assert first.context["impact"]["suspended"] == []
    end_through_the_page(client, world.scc, ends_on=ahead)
    world.scc.refresh_from_db()
    relied_on.refresh_from_db()
    assert world.scc.status == "revoked" and relied_on.status == "approved"


def test_a_confirmation_without_the_impact_it_confirms_ends_nothing(relied_on, world, client):
    client.force_login(world.estate.dpo_eu)
    response = client.post(_drill(world.scc), {**_end_form(), "action": "end"})
    assert response.status_code == 200 and 'data-testid="impact"' in response.content.decode()
    world.scc.refresh_from_db()
    assert world.scc.status == "in_force"


def test_the_end_form_is_styled_as_destructive(relied_on, world, client):
    client.force_login(world.estate.dpo_eu)
    page = client.get(f"/transfers/mechanisms/{world.scc.pk}/").content.decode()
    form = page[page.index('data-testid="end-form"') :]
    assert '<button type="submit" class="danger"' in form[: form.index("</form>")]


# --- 6. 403 versus 404 reveals nothing ----------------------------------------------------------


def test_deciding_on_a_request_in_an_unseen_region_answers_404(
    relied_on, new_request, world, client
):
    pending = new_request(purpose="Waiting")
    client.force_login(world.estate.dpo_us)  # cannot see eu-central
    assert client.post(f"/transfers/{pending.pk}/approve/").status_code == 404
    assert client.post(f"/transfers/{pending.pk}/reject/", {"reason": "x"}).status_code == 404
    assert client.post(f"/transfers/{relied_on.pk}/revoke/", {"reason": "x"}).status_code == 404
    api = client.post(f"/api/v1/transfers/requests/{pending.pk}/approve/", {}, "application/json")
    assert api.status_code == 404
    missing = client.post("/transfers/999999/approve/")
    assert missing.status_code == 404
    # Someone who sees the region but decides nothing there is told so.
    client.force_login(world.estate.requester)
    other = new_request(by=world.estate.dpo_eu, purpose="Not the requester's")
    assert client.post(f"/transfers/{other.pk}/approve/").status_code == 403
    pending.refresh_from_db()
    assert pending.status == "submitted"
