"""The Agents pages, the region page panel and the dashboard panel; outsiders see nothing."""

import re

import pytest

from controlplane.audit.models import AuditEvent
from controlplane.distribution import services
from regions.agents import hash_token
from regions.models import Agent

pytestmark = pytest.mark.django_db


def test_agents_page_is_scoped_to_the_users_regions(client, enrolled, make_user, estate):
    services.agent_enroll(region=estate.us_east, name="us-1")
    client.force_login(make_user("dpo", view=[estate.eu_central]))
    page = client.get("/agents/").content.decode()
    assert 'data-agent="eu-1"' in page and 'data-agent="us-1"' not in page
    client.force_login(make_user("dpo", view=[estate.uk_south]))
    page = client.get("/agents/").content.decode()
    assert "data-agent=" not in page
    agent, _ = enrolled
    assert client.get(f"/agents/{agent.pk}/").status_code == 404


def test_enroll_shows_the_token_once_and_stores_only_its_hash(client, estate, bundle_keys):
    client.force_login(estate.admin)
    response = client.post(
        "/agents/enroll/",
        {"region": estate.eu_central.pk, "name": "new", "callback_url": "", "poll_interval": 15},
    )
    assert response.status_code == 200
    token = re.search(r'data-testid="agent-token">(sva_[^<]+)<', response.content.decode()).group(1)
    agent = Agent.objects.get(name="new")
    assert agent.token_hash == hash_token(token) and token not in str(agent.__dict__)
    assert token not in client.get(f"/agents/{agent.pk}/").content.decode()
    assert AuditEvent.objects.filter(action="agent.enrolled", object_id=str(agent.pk)).exists()


def test_rotate_and_revoke_from_the_ui(client, enrolled, estate):
    agent, token = enrolled
    client.force_login(estate.admin)
    response = client.post(f"/agents/{agent.pk}/rotate/")
    assert response.status_code == 200 and "sva_" in response.content.decode()
    assert Agent.objects.get(pk=agent.pk).token_hash != hash_token(token)
    assert client.post(f"/agents/{agent.pk}/revoke/").status_code == 302
    assert Agent.objects.get(pk=agent.pk).revoked_at is not None


def test_people_without_the_agent_permission_cannot_manage(client, enrolled, make_user, estate):
    agent, _ = enrolled
    dpo = make_user("dpo", view=[estate.eu_central])
    client.force_login(dpo)
    assert client.get("/agents/enroll/").status_code == 403
    assert client.post(f"/agents/{agent.pk}/revoke/").status_code == 403
    client.force_login(estate.auditor)
    assert client.post(f"/agents/{agent.pk}/revoke/").status_code == 403
    assert Agent.objects.get(pk=agent.pk).revoked_at is None


def test_region_page_and_dashboard_show_drift(client, enrolled, estate):
    client.force_login(estate.dpo_eu)
    region_page = client.get("/regions/eu-central/").content.decode()
    assert 'data-testid="region-agents"' in region_page and 'data-drift="unknown"' in region_page
    assert "bundle <strong>v1</strong>" in region_page
    dashboard = client.get("/").content.decode()
    assert 'data-testid="agent-drift"' in dashboard


def test_admin_lists_agents_and_bundles_read_only(client, enrolled, estate):
    agent, _ = enrolled
    client.force_login(estate.admin)
    assert client.get("/admin/regions/agent/").status_code == 200
    page = client.get(f"/admin/regions/agent/{agent.pk}/change/")
    assert page.status_code == 200 and "token_hash" not in page.content.decode()
    assert client.get("/admin/regions/agent/add/").status_code == 403
    assert client.get("/admin/distribution/configbundle/").status_code == 200
    response = client.post(
        f"/admin/regions/agent/{agent.pk}/change/",
        {"name": "eu-1", "callback_url": "https://agent.example/", "poll_interval": 20},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    agent.refresh_from_db()
    assert (agent.callback_url, agent.poll_interval) == ("https://agent.example/", 20)
    assert AuditEvent.objects.filter(action="agent.changed", object_id=str(agent.pk)).exists()


def test_agents_about_to_expire_are_listed_with_why(client, enrolled, estate, make_user, settings):
    """An agent reports when its TUF metadata expires; within the warning window the Agents
    page and the API flag it, with its last failure."""
    from datetime import timedelta

    from django.utils import timezone

    from controlplane.distribution.models import ConfigBundle

    agent, token = enrolled
    bundle = ConfigBundle.objects.get(region=estate.eu_central)
    soon = (timezone.now() + timedelta(hours=2)).replace(microsecond=0)
    report = {
        "applied_version": bundle.version,
        "applied_digest": bundle.digest,
        "expires": soon.isoformat(),
        "last_refresh_at": (timezone.now() - timedelta(hours=22)).isoformat(),
        "last_refresh_ok": False,
        "last_error": {"code": "unreachable", "message": "connection refused"},
    }
    response = client.post(
        "/api/v1/agent/status",
        report,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    services.agent_enroll(region=estate.eu_central, name="eu-healthy")
    client.force_login(make_user("dpo", view=[estate.eu_central]))
    page = client.get("/agents/").content.decode()
    box = page.split('data-testid="expiring-agents"')[1].split("</div>")[0]
    assert "eu-1" in box and "unreachable" in box and "eu-healthy" not in box
    assert 'data-trust="expiring"' in page
    rows = {r["name"]: r for r in client.get("/api/v1/agents/").json()}
    assert rows["eu-1"]["trust_state"] == "expiring"
    assert rows["eu-healthy"]["trust_state"] == "unknown"
    Agent.objects.filter(pk=agent.pk).update(trust_expires=timezone.now() - timedelta(minutes=1))
    assert 'data-trust="expired"' in client.get("/agents/").content.decode()
