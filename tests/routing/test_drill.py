"""The revocation drill: the simulation changes no row; ending does exactly what it listed."""

import hashlib
from itertools import count

import pytest
from django.db import connection

from agents.routing import resolve
from controlplane.audit.models import AuditEvent
from controlplane.distribution import services as distribution
from controlplane.distribution.models import ConfigBundle
from controlplane.errors import ConflictError, NotAllowed
from controlplane.modelregistry import services as registry
from controlplane.routing import drill
from controlplane.transfers.models import Party, TransferRequest
from regions.models import Country, DataCategory, Jurisdiction, Region

_seq = count(1)
CATEGORIES = ("user.contact.email", "user.name", "user.financial")


def deploy_eea_model(routed, region):
    """A model trained on EEA personal data, approved in ``region`` (needs the transfer)."""
    model = registry.model_create(
        name=f"fraud-{next(_seq)}", purpose="Scores", owner_team="Risk", by=routed.ml_engineer
    )
    version = registry.version_register(
        model=model,
        version="1.0",
        digest="sha256:" + hashlib.sha256(str(next(_seq)).encode()).hexdigest(),
        framework="xgboost",
        training_mode="regional",
        contains_personal_data=True,
        training_jurisdictions=[Jurisdiction.objects.get(code="EEA")],
        data_categories=list(DataCategory.objects.filter(key="user.financial")),
        artifacts={region: f"s3://models-{region.slug}/fraud"},
        by=routed.ml_engineer,
    )
    approval = registry.deployment_request(version=version, region=region, by=routed.ml_engineer)
    assert approval.policy_allowed, approval.policy_findings
    return registry.deployment_approve(approval=approval, by=routed.dpo_us)


@pytest.fixture
def scenario(routed, bundle_keys):
    """Two transfers eu-central -> us-east under the EU-US DPF decision, one to the US as a
    country, a deployment relying on them, and every region's bundle published."""
    first = routed.approved_transfer(categories=CATEGORIES)
    second = routed.approved_transfer(
        categories=CATEGORIES, destination_region=None, purpose="Second"
    )
    deployment = deploy_eea_model(routed, routed.us_east)
    distribution.agent_enroll(region=routed.us_east, name="us-east-agent", poll_interval=30)
    for region in Region.objects.all():
        distribution.publish_region(region=region)
    mechanism = first.policy_mechanism
    assert second.policy_mechanism_id == mechanism.pk
    return routed, mechanism, [first, second], deployment


def snapshot_every_table() -> dict:
    """Row count and a checksum of every table's rows (PostgreSQL)."""
    out = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f"FROM {quoted} t"
            )
            out[table] = cursor.fetchone()
    return out


def test_simulating_changes_no_row_in_any_table(
    scenario, postgres, django_capture_on_commit_callbacks
):
    routed, mechanism, transfers, deployment = scenario
    before = snapshot_every_table()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        impact = drill.simulate_ending(
            mechanism=mechanism, by=routed.dpo_eu, status="revoked", reason="Schrems II drill"
        )
    assert callbacks == []  # no publish, no push was left to run
    assert snapshot_every_table() == before
    assert len(before) > 30  # every table, not a few
    # And it saw what would happen.
    assert {t["id"] for t in impact.suspended} == {f"TR-{t.pk}" for t in transfers}
    assert [d["id"] for d in impact.withdrawn] == [f"DA-{deployment.pk}"]
    eea = next(r for r in impact.routes if r["jurisdiction"] == "EEA")
    assert eea["lost"] == ["us-east/scoring"]
    assert {b["region"] for b in impact.bundles} == {r.slug for r in Region.objects.all()}
    assert [a["name"] for a in impact.agents] == ["us-east-agent"]


def test_ending_suspends_exactly_what_the_simulation_listed(
    scenario, django_capture_on_commit_callbacks
):
    routed, mechanism, transfers, deployment = scenario
    london = Party.objects.create(
        name="London Processing Ltd", country=Country.objects.get(code="GB"), role="processor"
    )
    bystander = routed.approved_transfer(  # under the UK adequacy decision, not the DPF
        categories=CATEGORIES,
        destination_region=routed.uk_south,
        destination_country=Country.objects.get(code="GB"),
        importer=london,
        purpose="To London",
    )
    assert bystander.policy_mechanism_id != mechanism.pk
    simulated = drill.simulate_ending(
        mechanism=mechanism, by=routed.dpo_eu, status="revoked", reason="Schrems II drill"
    )
    in_effect_before = set(
        TransferRequest.objects.filter(status__in=["approved", "active"]).values_list(
            "pk", flat=True
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        ended = drill.end_as_simulated(
            mechanism=mechanism,
            by=routed.dpo_eu,
            status="revoked",
            reason="Schrems II drill",
            fingerprint=simulated.fingerprint,
        )
    assert ended.as_dict() == simulated.as_dict()
    in_effect_after = set(
        TransferRequest.objects.filter(status__in=["approved", "active"]).values_list(
            "pk", flat=True
        )
    )
    suspended = in_effect_before - in_effect_after
    assert {f"TR-{pk}" for pk in suspended} == {t["id"] for t in simulated.suspended}
    assert bystander.pk in in_effect_after  # left alone
    deployment.refresh_from_db()
    assert deployment.status == "retired"
    # Audited: the service's own events and the drill's, one transaction.
    event = AuditEvent.objects.get(action="mechanism.drill_ended")
    assert event.data["suspended"] == [t["id"] for t in simulated.suspended]
    assert AuditEvent.objects.filter(action="transfer.suspended").count() == len(suspended)
    # The new table reached every region's bundle: no German user goes to us-east any more.
    for region in Region.objects.all():
        bundle = ConfigBundle.objects.filter(region=region).latest()
        routes = resolve(bundle.payload["content"]["routing"], "DE")["routes"]
        assert "us-east" not in [r["region"] for r in routes], region.slug


def test_ending_refuses_when_the_picture_changed_since_the_simulation(scenario):
    routed, mechanism, transfers, deployment = scenario
    simulated = drill.simulate_ending(
        mechanism=mechanism, by=routed.dpo_eu, status="revoked", reason="Drill"
    )
    routed.approved_transfer(categories=CATEGORIES, purpose="Approved in between")
    with pytest.raises(ConflictError):
        drill.end_as_simulated(
            mechanism=mechanism,
            by=routed.dpo_eu,
            status="revoked",
            reason="Drill",
            fingerprint=simulated.fingerprint,
        )
    mechanism.refresh_from_db()
    assert mechanism.status == "in_force"
    assert not AuditEvent.objects.filter(action="mechanism.drill_ended").exists()


def test_only_those_who_may_end_it_may_rehearse_it(scenario, client):
    routed, mechanism, transfers, deployment = scenario
    with pytest.raises(NotAllowed):
        drill.simulate_ending(mechanism=mechanism, by=routed.dpo_uk, status="revoked", reason="x")
    client.force_login(routed.dpo_uk)
    response = client.post(
        f"/routing/drill/{mechanism.pk}/",
        {"status": "revoked", "reason": "x", "action": "simulate"},
    )
    assert response.status_code == 403
    client.force_login(routed.auditor)
    assert client.get(f"/routing/drill/{mechanism.pk}/").status_code == 200


def test_the_drill_page_simulates_then_ends_after_confirmation(scenario, client):
    routed, mechanism, transfers, deployment = scenario
    client.force_login(routed.dpo_eu)
    page = client.post(
        f"/routing/drill/{mechanism.pk}/",
        {"status": "revoked", "reason": "Schrems II drill", "action": "simulate"},
    )
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="impact"' in html
    assert all(f'data-id="TR-{t.pk}"' in html for t in transfers)
    # dpo-eu cannot see us-east: the deployment there is counted, not shown.
    assert f'data-id="DA-{deployment.pk}"' not in html and "in regions you cannot see" in html
    mechanism.refresh_from_db()
    assert mechanism.status == "in_force"
    fingerprint = page.context["fingerprint"]
    done = client.post(
        f"/routing/drill/{mechanism.pk}/",
        {
            "status": "revoked",
            "reason": "Schrems II drill",
            "action": "end",
            "fingerprint": fingerprint,
        },
    )
    assert done.status_code == 302
    mechanism.refresh_from_db()
    assert mechanism.status == "revoked"
    assert not TransferRequest.objects.filter(
        pk__in=[t.pk for t in transfers], status__in=["approved", "active"]
    ).exists()
