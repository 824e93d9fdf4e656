"""Pages that fit the role, styled error pages, and the Agents page's warnings."""

from datetime import timedelta

import pytest
from django.utils import timezone

from regions.models import Agent

pytestmark = pytest.mark.django_db


def test_403_and_404_are_styled_and_give_the_reason(estate, client):
    client.force_login(estate.requester)
    denied = client.get("/audit/")
    assert denied.status_code == 403
    page = denied.content.decode()
    assert 'data-testid="error-page"' in page and "open to DPOs and auditors" in page
    assert 'aria-label="Main"' in page  # with the navigation
    missing = client.get("/regions/no-such-region/")
    assert missing.status_code == 404 and 'data-status="404"' in missing.content.decode()
    assert client.get("/favicon.ico").status_code == 301


def test_auditors_are_offered_no_forms_and_awaiting_you_is_for_deciders(estate, client):
    client.force_login(estate.auditor)
    mine = client.get("/transfers/mine/").content.decode()
    assert 'data-testid="new-request"' not in mine and "/transfers/new/" not in mine
    queue = client.get("/transfers/").content.decode()
    assert "Transfers awaiting a DPO" in queue
    assert "awaiting you" not in client.get("/models/").content.decode()
    inbox = client.get("/inbox/").content.decode()
    assert "notice-preferences" not in inbox
    client.force_login(estate.requester)
    nav = client.get("/transfers/mine/").content.decode()
    assert "/transfers/new/" in nav and ">DPO queue<" not in nav


def test_a_requesters_dashboard_shows_their_requests_and_what_they_wait_for(estate, client):
    client.force_login(estate.requester)
    page = client.get("/").content.decode()
    assert 'data-testid="requester-panel"' in page
    client.force_login(estate.dpo_eu)
    assert 'data-testid="requester-panel"' not in client.get("/").content.decode()


def test_agents_page_flags_regions_nobody_enforces(estate, client, tuf_repository):
    from controlplane.distribution import services

    for region in (estate.eu_central, estate.us_east):
        services.publish_region(region=region, reason="test")
    stale, _ = services.agent_enroll(region=estate.us_east, name="old-box", poll_interval=10)
    Agent.objects.filter(pk=stale.pk).update(
        last_seen=timezone.now() - timedelta(hours=1),
        last_error_code="SIGNATURE",
        last_error="bundle signature does not verify",
    )
    client.force_login(estate.auditor)
    page = client.get("/agents/").content.decode()
    assert 'data-uncovered="eu-central" data-problem="no_agent"' in page
    assert 'data-uncovered="us-east" data-problem="all_stale"' in page
    assert "SIGNATURE" in page and "bundle signature does not verify" in page
    assert 'data-uncovered="uk-south"' not in page  # no bundle published there
