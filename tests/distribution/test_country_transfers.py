"""Deployments follow the transfers they rely on, wherever the transfer points (issue 13.2).

A transfer to a *country* (no destination region) covers deployments in every region of that
country and is published into all their bundles; when it ends, those deployments are re-checked
in the same transaction, withdrawn, listed on the mechanism's impact page, and the region's
DPOs are told.
"""

import hashlib
from itertools import count

import pytest
from guardian.shortcuts import assign_perm

from controlplane.audit.models import AuditEvent
from controlplane.distribution import services
from controlplane.distribution.models import ConfigBundle
from controlplane.modelregistry import services as registry
from controlplane.modelregistry.selectors import desired_versions_for_region
from controlplane.transfers import policy as tp
from controlplane.transfers import services as transfer_services
from controlplane.transfers.models import Party
from regions.models import Country, DataCategory, Jurisdiction, Region
from regions.services import estate_object_save

pytestmark = pytest.mark.django_db
_seq = count(1)


@pytest.fixture
def us_west(estate):
    region = estate_object_save(
        instance=Region(
            slug="us-west",
            name="US West (Oregon)",
            jurisdiction=Jurisdiction.objects.get(code="US"),
            country=Country.objects.get(code="US"),
            provider="aws",
            cloud_region="us-west-2",
        ),
        by=estate.admin,
    )
    assign_perm("regions.view_region", estate.dpo_us, region)
    assign_perm("regions.approve_deployments", estate.dpo_us, region)
    assign_perm("regions.view_region", estate.ml_engineer, region)
    return region


@pytest.fixture
def to_the_us(estate, bundle_keys, us_west, django_capture_on_commit_callbacks):
    """submit() -> a submitted request eu-central -> the United States (no region), DPF."""
    transfer_services.reference_mechanisms_sync()
    exporter = Party.objects.create(
        name="Acme GmbH",
        country=Country.objects.get(code="DE"),
        role=tp.CONTROLLER,
        hints=["commercial_organisation"],
    )
    importer = Party.objects.create(
        name="Acme US Inc",
        country=Country.objects.get(code="US"),
        role=tp.CONTROLLER,
        certifications=[tp.CERT_EU_US_DPF],
        hints=["commercial_organisation"],
    )
    for region in Region.objects.all():
        services.publish_region(region=region)

    def submit():
        tr = transfer_services.transfer_request_create(
            by=estate.requester,
            source_region=estate.eu_central,
            destination_country=Country.objects.get(code="US"),
            exporter=exporter,
            importer=importer,
            data_categories=list(DataCategory.objects.filter(key="user.financial")),
            purpose="Fraud scores for US checkout",
            data_subjects="EU customers",
            frequency=tp.RECURRING,
            submit=True,
        )
        assert tr.policy_allowed and tr.destination_region is None, tr.policy_findings
        return tr

    return submit


def _deploy_eea_model(estate, region):
    model = registry.model_create(
        name=f"fraud-{next(_seq)}", purpose="Scores", owner_team="Risk", by=estate.ml_engineer
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
        by=estate.ml_engineer,
    )
    approval = registry.deployment_request(version=version, region=region, by=estate.ml_engineer)
    assert approval.policy_allowed, approval.policy_findings
    return registry.deployment_approve(approval=approval, by=estate.dpo_us)


def _transfer_ids(region):
    bundle = ConfigBundle.objects.filter(region=region).latest()
    return [t["id"] for t in bundle.payload["content"]["transfers"]]


def test_approving_a_transfer_to_a_country_republishes_every_region_of_it_at_once(
    to_the_us, estate, us_west, django_capture_on_commit_callbacks
):
    tr = to_the_us()
    with django_capture_on_commit_callbacks(execute=True):
        transfer_services.transfer_request_approve(request=tr, by=estate.dpo_eu)
    for region in (estate.eu_central, estate.us_east, us_west):
        assert f"TR-{tr.pk}" in _transfer_ids(region), region.slug
    assert f"TR-{tr.pk}" not in _transfer_ids(estate.ap_northeast)


@pytest.mark.parametrize("how", ["revoked", "mechanism ended"])
def test_ending_a_transfer_to_a_country_withdraws_deployments_in_every_region_of_it(
    how, to_the_us, estate, us_west, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tr = transfer_services.transfer_request_approve(request=to_the_us(), by=estate.dpo_eu)
        east = _deploy_eea_model(estate, estate.us_east)
        west = _deploy_eea_model(estate, us_west)
    assert desired_versions_for_region(estate.us_east) and desired_versions_for_region(us_west)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        if how == "revoked":
            transfer_services.transfer_request_revoke(request=tr, by=estate.dpo_eu, reason="ended")
        else:
            transfer_services.mechanism_end(
                mechanism=tr.policy_mechanism,
                by=estate.dpo_eu,
                status="suspended",
                reason="Court ruling",
            )
    for approval in (east, west):
        approval.refresh_from_db()
        assert approval.status == "retired" and not approval.is_desired
        assert approval.withdrawn_because_id == tr.pk
    assert desired_versions_for_region(estate.us_east) == []
    assert desired_versions_for_region(us_west) == []
    # One publish callback for the whole change, and both regions' bundles lost the model.
    publishes = [c for c in callbacks if hasattr(c, "pending_region_ids")]
    assert len(publishes) == 1
    assert publishes[0].pending_region_ids >= {estate.eu_central.pk, estate.us_east.pk, us_west.pk}
    for region in (estate.us_east, us_west):
        bundle = ConfigBundle.objects.filter(region=region).latest()
        assert bundle.payload["content"]["models"] == []
        assert f"TR-{tr.pk}" not in _transfer_ids(region)
    # The region's DPO is told (a region-scoped audit event naming the recipients).
    notices = AuditEvent.objects.filter(action="deployment.withdrawal_notice")
    assert {n.data["region"] for n in notices} == {"us-east", "us-west"}
    assert all(n.data["recipients"] == ["dpo-us"] for n in notices)
    if how == "mechanism ended":
        client.force_login(estate.dpo_eu)
        page = client.get(f"/transfers/mechanisms/{tr.policy_mechanism_id}/").content.decode()
        # dpo-eu sees neither US region: the withdrawals are counted, not hidden.
        assert 'data-testid="withdrawn-hidden"' in page and "2 more in regions" in page
        client.force_login(estate.admin)
        page = client.get(f"/transfers/mechanisms/{tr.policy_mechanism_id}/").content.decode()
        assert f'data-deployment="{east.pk}"' in page and f'data-deployment="{west.pk}"' in page
