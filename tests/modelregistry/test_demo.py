"""seed_demo's models: what the issue asks for, and a second run changes nothing."""

import pytest
from django.core.management import call_command

from controlplane.audit.models import AuditEvent
from controlplane.modelregistry.models import DeploymentApproval, ModelVersion
from controlplane.modelregistry.selectors import desired_versions_for_region
from regions.models import Region

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_the_models_and_is_idempotent(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    versions = ModelVersion.objects.count()
    approvals = list(DeploymentApproval.objects.order_by("pk").values_list("pk", "status"))
    events = AuditEvent.objects.count()

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert ModelVersion.objects.count() == versions
    assert list(DeploymentApproval.objects.order_by("pk").values_list("pk", "status")) == approvals
    assert AuditEvent.objects.count() == events

    # A regional fraud model per region, each desired in its own region.
    for region in Region.objects.all():
        desired = {d["name"]: d["version"] for d in desired_versions_for_region(region)}
        expected = "1.1.0-eu-central" if region.slug == "eu-central" else f"1.0.0-{region.slug}"
        assert desired["fraud-scoring"] == expected
    modes = dict(ModelVersion.objects.values_list("model__name", "training_mode").distinct())
    assert modes["fraud-global"] == "federated"
    tuned = ModelVersion.objects.get(model__name="support-intent", training_mode="transfer")
    assert tuned.base_version.training_mode == "synthetic"
    # The demo also shows the check at work: an EEA model waits, blocked, for us-east.
    blocked = DeploymentApproval.objects.get(
        version__version="1.1.0-eu-central", region__slug="us-east"
    )
    assert (blocked.status, blocked.policy_allowed) == ("requested", False)
