"""Deployment decisions change the region's signed bundle, and agents' reports show as live."""

import pytest
from django.urls import reverse

from controlplane.distribution import services as distribution
from controlplane.distribution.models import ConfigBundle
from controlplane.modelregistry import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def bundle_keys(settings, tuf_repository):
    settings.BUNDLE_PUSH_ENABLED = False
    return tuf_repository


def bundle_models(region):
    latest = ConfigBundle.objects.filter(region=region).order_by("-version").first()
    return latest.payload["content"]["models"] if latest else None


def test_approve_and_retire_publish_the_desired_versions(
    reg, bundle_keys, django_capture_on_commit_callbacks
):
    e = reg.estate
    v1, v2 = reg.version("1.0"), reg.version("1.1")
    for v in (v1, v2):
        a = services.deployment_request(version=v, region=e.eu_central, by=e.ml_engineer)
        with django_capture_on_commit_callbacks(execute=True):
            services.deployment_approve(approval=a, by=e.dpo_eu)
    assert bundle_models(e.eu_central) == [
        {
            "name": "fraud",
            "version": "1.1",
            "digest": v2.digest,
            "artifact_uri": "s3://models-eu-central/1.1",
            "training_mode": "regional",
        }
    ]
    with django_capture_on_commit_callbacks(execute=True):
        services.deployment_retire(approval=a, by=e.dpo_eu)
    assert [m["version"] for m in bundle_models(e.eu_central)] == ["1.0"]
    assert bundle_models(e.eu_west) is None  # other regions were not republished


def test_the_models_page_shows_what_the_agent_reports(
    reg, bundle_keys, client, django_capture_on_commit_callbacks
):
    e = reg.estate
    agent, token = distribution.agent_enroll(region=e.eu_central, name="eu-1", by=e.admin)
    a = services.deployment_request(
        version=reg.version("1.0"), region=e.eu_central, by=e.ml_engineer
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.deployment_approve(approval=a, by=e.dpo_eu)
    client.force_login(e.ml_engineer)
    html = client.get(reverse("modelregistry:index")).content.decode()
    assert "live: not reported" in html

    latest = ConfigBundle.objects.filter(region=e.eu_central).order_by("-version").first()
    distribution.agent_report_status(
        principal=distribution.authenticate_agent(token),
        data={"applied_version": latest.version, "applied_digest": latest.digest},
    )
    html = client.get(reverse("modelregistry:index")).content.decode()
    assert 'live: eu-1 <span class="mono">1.0</span>' in html
