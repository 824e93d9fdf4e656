"""The dashboard gathers every app's panel with a fixed number of queries."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from controlplane.distribution import services as distribution
from regions.models import Region

pytestmark = pytest.mark.django_db


def _queries(client) -> int:
    ContentType.objects.clear_cache()  # the same cold start for every measurement
    with CaptureQueriesContext(connection) as context:
        response = client.get("/")
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("who", ["auditor", "dpo_eu"])
def test_dashboard_queries_do_not_grow_with_the_estate(estate, client, who, tmp_path, settings):
    settings.BUNDLE_SIGNING_KEY_FILE = str(tmp_path / "signing.key")
    settings.BUNDLE_KEYRING_FILE = str(tmp_path / "keyring.json")
    settings.BUNDLE_ROOT_KEY_FILE = str(tmp_path / "root.key")
    user = getattr(estate, who)
    client.force_login(user)
    small = _queries(client)
    template = estate.eu_central
    for n in range(12):
        region = Region.objects.create(
            slug=f"eu-more-{n}",
            name=f"More {n}",
            jurisdiction=template.jurisdiction,
            country=template.country,
            provider="aws",
            cloud_region="eu-central-1",
        )
        distribution.agent_enroll(region=region, name=f"agent-{n}")
        if who == "dpo_eu":
            from guardian.shortcuts import assign_perm

            assign_perm("regions.view_region", user, region)
    assert _queries(client) == small
