"""The registry's pages: scoping, the approval page's findings, the UI flow, and no N+1."""

import re

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from controlplane.modelregistry import services
from controlplane.modelregistry.models import DeploymentApproval, MLModel, ModelVersion

from .conftest import digest

pytestmark = pytest.mark.django_db


def cell(html: str, model: str, region: str) -> str:
    """The models-by-regions cell of ``model`` in ``region``."""
    row = re.search(rf'<tr data-model="{model}">(.*?)</tr>', html, re.S).group(1)
    return re.search(rf'data-region="{region}">(.*?)</td>', row, re.S).group(1)


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_the_nav_links_the_models_page(reg, as_user):
    page = as_user(reg.estate.ml_engineer).get(reverse("dashboard"))
    assert reverse("modelregistry:index") in page.content.decode()


# --- models by regions ---------------------------------------------------------------------


def _bulk(reg, n, *, start=0):
    """n versions over several models, each approved (desired or fallback) or requested in a
    region, plus agents reporting a bundle that lists them: rows written directly, fast."""
    e = reg.estate
    regions = [e.eu_central, e.eu_west, e.uk_south, e.us_east, e.ap_northeast]
    models = [
        MLModel.objects.get_or_create(
            name=f"bulk-{i}", defaults={"purpose": "load", "owner_team": "t"}
        )[0]
        for i in range(max(1, n // 5))
    ]
    now = timezone.now()
    versions = ModelVersion.objects.bulk_create(
        [
            ModelVersion(
                model=models[i % len(models)],
                version=f"v{start + i}",
                digest=digest(f"bulk{start + i}"),
                framework="onnx",
                training_mode="synthetic",
                contains_personal_data=False,
            )
            for i in range(n)
        ]
    )
    approvals = []
    seen = set()
    for i, v in enumerate(versions):
        region = regions[i % len(regions)]
        desired = (v.model_id, region.pk) not in seen and not DeploymentApproval.objects.filter(
            model=v.model, region=region, is_desired=True
        ).exists()
        seen.add((v.model_id, region.pk))
        status = "requested" if i % 7 == 3 else "approved"
        approvals.append(
            DeploymentApproval(
                version=v,
                model=v.model,
                region=region,
                status=status,
                is_desired=desired and status == "approved",
                requested_by=e.ml_engineer,
                decided_by=e.dpo_eu if status == "approved" else None,
                decided_at=now if status == "approved" else None,
                policy_allowed=True,
            )
        )
    DeploymentApproval.objects.bulk_create(approvals)
    _agents_report(regions, versions)


def _agents_report(regions, versions):
    """Each region's agent applied a bundle that lists the region's versions."""
    Agent = apps.get_model("regions", "Agent")
    ConfigBundle = apps.get_model("distribution", "ConfigBundle")
    now = timezone.now()
    for region in regions:
        listed = [
            {"name": v.model.name, "version": v.version, "digest": v.digest}
            for v in versions[: len(regions) * 2]
        ]
        version = ConfigBundle.objects.filter(region=region).count() + 1
        bundle_digest = digest(f"bundle-{region.slug}-{version}")
        ConfigBundle.objects.create(
            region=region,
            version=version,
            digest=bundle_digest,
            content_digest=bundle_digest,
            payload={"content": {"models": listed}},
            issued=now,
            expires=now,
        )
        Agent.objects.update_or_create(
            region=region,
            name="agent-1",
            defaults={
                "token_hash": digest(f"token-{region.slug}")[7:],
                "token_hint": "sva_test",
                "applied_digest": bundle_digest,
                "applied_version": version,
            },
        )


@pytest.mark.parametrize("who", ["ml_engineer", "dpo_eu", "admin"])
def test_models_by_regions_runs_the_same_queries_for_5_and_200_versions(reg, as_user, who):
    client = as_user(getattr(reg.estate, who))
    url = reverse("modelregistry:index")
    _bulk(reg, 5)
    client.get(url)  # warm per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as small:
        page = client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="desired"') >= 1
    _bulk(reg, 195, start=5)
    with CaptureQueriesContext(connection) as large:
        page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="desired"') > 5
    assert "agent-1" in html
    assert len(small) == len(large), [q["sql"][:120] for q in large.captured_queries]
    print(f"models-by-regions as {who}: {len(large)} queries for 5 and 200 versions")


def test_models_by_regions_shows_only_the_regions_the_user_may_view(reg, as_user):
    e = reg.estate
    mv = reg.version("1.0")
    approval = services.deployment_request(version=mv, region=e.eu_central, by=e.ml_engineer)
    services.deployment_approve(approval=approval, by=e.dpo_eu)
    eu = as_user(e.dpo_eu).get(reverse("modelregistry:index")).content.decode()
    assert 'data-region="eu-central"' in eu and 'data-region="us-east"' not in eu
    uk = as_user(e.dpo_uk).get(reverse("modelregistry:index")).content.decode()
    assert 'data-region="uk-south"' in uk and 'data-region="eu-central"' not in uk
    assert 'data-testid="desired"' not in uk


def test_live_column_says_so_before_any_agent_reports(reg, as_user):
    reg.version("1.0")
    html = as_user(reg.estate.ml_engineer).get(reverse("modelregistry:index")).content.decode()
    assert "live: not reported" in html


# --- the approval page ---------------------------------------------------------------------


def test_the_approval_page_shows_codes_and_sentences_and_a_blocked_one_cannot_be_approved(
    reg, as_user
):
    e = reg.estate
    approval = services.deployment_request(
        version=reg.version("1.0"), region=e.us_east, by=e.ml_engineer
    )
    client = as_user(e.dpo_us)
    page = client.get(approval.get_absolute_url())
    html = page.content.decode()
    assert 'data-code="NO_COVERING_TRANSFER"' in html
    assert "needs an approved transfer in effect from a region in EEA" in html
    assert "disabled" in html.split('value="approve"')[1].split(">")[0]

    response = client.post(
        reverse("modelregistry:decide", args=[approval.pk]), {"decision": "approve"}
    )
    assert response.status_code == 400
    assert "a blocked deployment cannot be approved" in response.content.decode()
    approval.refresh_from_db()
    assert approval.status == "requested"


def test_the_ui_flow_request_then_approve_then_the_page_shows_the_desired_version(reg, as_user):
    e = reg.estate
    mv = reg.version("1.0")
    engineer = as_user(e.ml_engineer)
    response = engineer.post(
        reverse("modelregistry:request", args=["fraud", "1.0"]),
        {"region": "eu-west", "justification": "launch in NL"},
    )
    approval = DeploymentApproval.objects.get(version=mv, region=e.eu_west)
    assert response.status_code == 302 and response.url == approval.get_absolute_url()
    own = engineer.get(approval.get_absolute_url()).content.decode()
    assert "Four eyes" in own and 'data-testid="decision-form"' not in own

    dpo = as_user(e.dpo_eu)
    response = dpo.post(
        reverse("modelregistry:decide", args=[approval.pk]),
        {"decision": "approve", "note": "fine"},
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.status == "approved" and approval.is_desired
    html = dpo.get(reverse("modelregistry:index")).content.decode()
    assert "desired" in cell(html, "fraud", "eu-west") and ">1.0</a>" in cell(
        html, "fraud", "eu-west"
    )
    assert "none desired" in cell(html, "fraud", "eu-central")


def test_federated_approval_needs_the_confirmation_box(reg, as_user):
    e = reg.estate
    mv = reg.version(
        "g1", mode="federated", jurisdictions=("EEA", "GB"), regions=(e.eu_central, e.uk_south)
    )
    approval = services.deployment_request(version=mv, region=e.eu_west, by=e.ml_engineer)
    client = as_user(e.dpo_eu)
    assert (
        'value="FEDERATED_CONFIRM_PARAMETERS_ONLY"'
        in client.get(approval.get_absolute_url()).content.decode()
    )
    url = reverse("modelregistry:decide", args=[approval.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 400
    response = client.post(
        url, {"decision": "approve", "confirmed": "FEDERATED_CONFIRM_PARAMETERS_ONLY"}
    )
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.status == "approved"


def test_a_dpo_of_another_region_cannot_see_or_decide(reg, as_user):
    e = reg.estate
    approval = services.deployment_request(
        version=reg.version("1.0"), region=e.eu_central, by=e.ml_engineer
    )
    client = as_user(e.dpo_uk)
    assert client.get(approval.get_absolute_url()).status_code == 404
    url = reverse("modelregistry:decide", args=[approval.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 404
    approval.refresh_from_db()
    assert approval.status == "requested"


def test_auditors_read_but_cannot_decide(reg, as_user):
    e = reg.estate
    approval = services.deployment_request(
        version=reg.version("1.0"), region=e.eu_central, by=e.ml_engineer
    )
    client = as_user(e.auditor)
    assert client.get(approval.get_absolute_url()).status_code == 200
    url = reverse("modelregistry:decide", args=[approval.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 403


def test_retire_from_the_ui_rolls_back(reg, as_user):
    e = reg.estate
    v1, v2 = reg.version("1.0"), reg.version("1.1")
    for v in (v1, v2):
        a = services.deployment_request(version=v, region=e.eu_central, by=e.ml_engineer)
        services.deployment_approve(approval=a, by=e.dpo_eu)
    client = as_user(e.dpo_eu)
    assert "rolls the region back" in client.get(a.get_absolute_url()).content.decode()
    response = client.post(reverse("modelregistry:retire", args=[a.pk]), {"reason": "bad"})
    assert response.status_code == 302
    desired = DeploymentApproval.objects.get(region=e.eu_central, is_desired=True)
    assert desired.version == v1


def test_the_queue_lists_requests_in_the_approvers_regions_only(reg, as_user):
    e = reg.estate
    mv = reg.version("1.0")
    services.deployment_request(version=mv, region=e.eu_central, by=e.ml_engineer)
    services.deployment_request(version=mv, region=e.uk_south, by=e.ml_engineer)
    eu = as_user(e.dpo_eu).get(reverse("modelregistry:queue")).content.decode()
    assert "eu-central" in eu and "uk-south" not in eu


# --- versions and lineage -------------------------------------------------------------------


def test_the_lineage_page_shows_each_step_with_its_jurisdictions_and_data(reg, as_user):
    root = reg.version("1", categories=("user.content.private",))
    mid = reg.version("2", mode="transfer", personal=False, base=root)
    top = reg.version("3", mode="transfer", personal=False, base=mid)
    html = (
        as_user(reg.estate.dpo_eu)
        .get(reverse("modelregistry:lineage", args=["fraud", top.version]))
        .content.decode()
    )
    assert html.index("fraud 3") < html.index("fraud 2") < html.index("fraud 1")
    assert "user.content.private" in html
    assert '<span class="badge">EEA</span>' in html


def test_registering_a_version_from_the_ui(reg, as_user):
    client = as_user(reg.estate.ml_engineer)
    url = reverse("modelregistry:version_create", args=["fraud"])
    data = {
        "version": "2.0",
        "digest": "sha256:short",
        "framework": "onnx",
        "training_mode": "regional",
        "contains_personal_data": "on",
        "training_jurisdictions": ["EEA"],
        "data_categories": ["user.financial"],
        "metrics": '{"auc": 0.93}',
        "artifacts": "eu-central s3://models-eu-central/fraud/2.0",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "64 lower-case hex" in response.content.decode()
    data["digest"] = digest("ui")
    response = client.post(url, data)
    assert response.status_code == 302
    mv = ModelVersion.objects.get(model__name="fraud", version="2.0")
    assert mv.metrics == {"auc": 0.93}
    assert mv.artifacts.get().uri == "s3://models-eu-central/fraud/2.0"


def test_only_ml_engineers_get_the_registration_form(reg, as_user):
    url = reverse("modelregistry:version_create", args=["fraud"])
    assert as_user(reg.estate.dpo_eu).get(url).status_code == 403


def test_the_region_page_lists_its_models(reg, as_user):
    e = reg.estate
    a = services.deployment_request(
        version=reg.version("1.0"), region=e.eu_central, by=e.ml_engineer
    )
    services.deployment_approve(approval=a, by=e.dpo_eu)
    html = as_user(e.dpo_eu).get(e.eu_central.get_absolute_url()).content.decode()
    assert 'data-testid="region-models"' in html and "fraud" in html


def test_the_version_form_is_checked_live_by_its_own_rules(reg, as_user):
    """Personal data "no" with categories chosen, and two artifacts for one region: said at
    once (the form's own clean()), nothing registered, required fields not yet scolded."""
    url = reverse("modelregistry:version_check", args=["fraud"])
    data = {
        "data_categories": ["user.financial"],
        "artifacts": "eu-central s3://a/1\neu-central s3://b/1",
    }
    response = as_user(reg.estate.ml_engineer).post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="error-contains_personal_data"') == 1
    assert "held no personal data" in html
    assert html.count('data-testid="error-artifacts"') == 1
    assert "already has an artifact" in html
    assert 'data-testid="error-version"' not in html  # required, but not reached yet
    assert 'id="id_version-errors" hx-swap-oob="true"' in html  # its slot is emptied
    assert not ModelVersion.objects.filter(model__name="fraud").exists()


def test_only_ml_engineers_may_check_a_version_form(reg, as_user):
    url = reverse("modelregistry:version_check", args=["fraud"])
    assert as_user(reg.estate.dpo_eu).post(url, {}).status_code == 403
    assert as_user(reg.estate.ml_engineer).get(url).status_code == 405
