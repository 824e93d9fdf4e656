"""The registry's API as an ML pipeline and a DPO use it."""

import pytest
from rest_framework.test import APIClient

from controlplane.audit.models import AuditEvent
from controlplane.modelregistry.models import DeploymentApproval, ModelVersion

from .conftest import digest

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    def as_(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return as_


def lineage(**overrides):
    body = {
        "version": "1.0.0",
        "digest": digest("api"),
        "framework": "pytorch 2.4",
        "metrics": {"auc": 0.91, "f1": 0.8},
        "training_mode": "regional",
        "contains_personal_data": True,
        "training_jurisdictions": ["EEA"],
        "data_categories": ["user.financial"],
        "artifacts": {"eu-central": "s3://models-eu-central/fraud/1.0.0"},
    }
    body.update(overrides)
    return body


def test_an_ml_pipeline_registers_requests_and_reads_status(reg, api):
    e = reg.estate
    pipeline = api(e.ml_engineer)
    created = pipeline.post("/api/v1/models/", {"name": "churn", "purpose": "x", "owner_team": "y"})
    assert created.status_code == 201, created.data

    response = pipeline.post("/api/v1/models/churn/versions/", lineage(), format="json")
    assert response.status_code == 201, response.data
    assert response.data["digest"] == digest("api")
    assert response.data["training_jurisdictions"] == ["EEA"]
    assert response.data["artifacts"] == {"eu-central": "s3://models-eu-central/fraud/1.0.0"}
    assert response.data["frozen"] is False

    tuned = pipeline.post(
        "/api/v1/models/churn/versions/",
        lineage(
            version="1.1.0",
            digest=digest("api2"),
            training_mode="transfer",
            contains_personal_data=False,
            training_jurisdictions=[],
            data_categories=[],
            base_version="1.0.0",
        ),
        format="json",
    )
    assert tuned.status_code == 201, tuned.data
    assert tuned.data["base_version"] == {"model": "churn", "version": "1.0.0"}

    requested = pipeline.post(
        "/api/v1/models/churn/versions/1.1.0/deployments/",
        {"region": "us-east", "justification": "US launch"},
        format="json",
    )
    assert requested.status_code == 201, requested.data
    assert requested.data["status"] == "requested"
    assert requested.data["allowed"] is False  # the base held EEA personal data
    assert [f["code"] for f in requested.data["findings"]] == [
        "NO_COVERING_TRANSFER",
        "ARTIFACT_NOT_IN_REGION",
    ]

    status = pipeline.get(f"/api/v1/deployments/{requested.data['id']}/")
    assert status.status_code == 200
    assert status.data["status"] == "requested"
    listed = pipeline.get("/api/v1/models/churn/versions/1.1.0/deployments/")
    assert [d["id"] for d in listed.data["results"]] == [requested.data["id"]]
    assert AuditEvent.objects.filter(action="model_version.registered").count() == 2
    assert AuditEvent.objects.filter(action="deployment.requested").count() == 1


def test_a_bad_digest_is_a_400_naming_the_field(reg, api):
    response = api(reg.estate.ml_engineer).post(
        "/api/v1/models/fraud/versions/", lineage(digest="sha256:1234"), format="json"
    )
    assert response.status_code == 400
    assert "digest" in response.data
    assert not ModelVersion.objects.exists()


def test_an_unknown_base_version_is_a_400(reg, api):
    response = api(reg.estate.ml_engineer).post(
        "/api/v1/models/fraud/versions/",
        lineage(training_mode="transfer", base_version="9.9"),
        format="json",
    )
    assert response.status_code == 400 and "base_version" in response.data


def test_a_duplicate_version_is_a_400(reg, api):
    client = api(reg.estate.ml_engineer)
    assert (
        client.post("/api/v1/models/fraud/versions/", lineage(), format="json").status_code == 201
    )
    again = client.post("/api/v1/models/fraud/versions/", lineage(), format="json")
    assert again.status_code == 400


def test_dpo_decides_through_the_api_with_four_eyes_and_scope(reg, api):
    e = reg.estate
    reg.version("1.0")
    requested = api(e.ml_engineer).post(
        "/api/v1/models/fraud/versions/1.0/deployments/", {"region": "eu-central"}, format="json"
    )
    pk = requested.data["id"]
    url = f"/api/v1/deployments/{pk}/decide/"

    assert api(e.ml_engineer).post(url, {"decision": "approve"}, format="json").status_code == 403
    # Another region's DPO does not even see it.
    assert api(e.dpo_uk).post(url, {"decision": "approve"}, format="json").status_code == 404
    assert api(e.auditor).post(url, {"decision": "approve"}, format="json").status_code == 403

    decided = api(e.dpo_eu).post(url, {"decision": "approve", "note": "ok"}, format="json")
    assert decided.status_code == 200, decided.data
    assert decided.data["status"] == "approved" and decided.data["is_desired"] is True
    assert decided.data["decided_by"] == "dpo-eu"

    again = api(e.dpo_eu).post(url, {"decision": "reject", "note": "x"}, format="json")
    assert again.status_code == 409
    assert "already approved" in again.data["detail"]

    retired = api(e.dpo_eu).post(f"/api/v1/deployments/{pk}/retire/", {}, format="json")
    assert retired.status_code == 200 and retired.data["status"] == "retired"


def test_a_blocked_deployment_is_refused_with_a_clear_400(reg, api):
    e = reg.estate
    reg.version("1.0")
    requested = api(e.ml_engineer).post(
        "/api/v1/models/fraud/versions/1.0/deployments/", {"region": "us-east"}, format="json"
    )
    decided = api(e.dpo_us).post(
        f"/api/v1/deployments/{requested.data['id']}/decide/",
        {"decision": "approve"},
        format="json",
    )
    assert decided.status_code == 400
    assert decided.data["code"] == "blocked"
    assert "NO_COVERING_TRANSFER" in decided.data["detail"]
    assert DeploymentApproval.objects.get().status == "requested"


def test_requesting_in_a_region_you_cannot_see_is_a_403(reg, api, make_user):
    eu_only = make_user("ml-engineer", view=[reg.estate.eu_central])
    reg.version("1.0")
    response = api(eu_only).post(
        "/api/v1/models/fraud/versions/1.0/deployments/", {"region": "us-east"}, format="json"
    )
    assert response.status_code == 403
    assert not DeploymentApproval.objects.exists()


def test_deployment_list_is_scoped_to_viewable_regions(reg, api):
    e = reg.estate
    reg.version("1.0")
    for region in ("eu-central", "uk-south", "us-east"):
        api(e.ml_engineer).post(
            "/api/v1/models/fraud/versions/1.0/deployments/", {"region": region}, format="json"
        )
    seen = {d["region"] for d in api(e.dpo_eu).get("/api/v1/deployments/").data["results"]}
    assert seen == {"eu-central"}
    everything = api(e.auditor).get("/api/v1/deployments/?status=requested").data["results"]
    assert {d["region"] for d in everything} == {"eu-central", "uk-south", "us-east"}


def test_anonymous_callers_are_refused(reg):
    assert APIClient().get("/api/v1/deployments/").status_code in (401, 403)
    assert APIClient().post(
        "/api/v1/models/fraud/versions/", lineage(), format="json"
    ).status_code in (
        401,
        403,
    )
