"""List pages and API lists run a fixed number of queries, however many rows they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from regions.models import DataStore, KeyReference, Region, ResidencyRule

pytestmark = pytest.mark.django_db


def _grow_estate(extra: int, estate):
    template = estate.eu_central
    for n in range(extra):
        region = Region.objects.create(
            slug=f"eu-extra-{n}",
            name=f"Extra {n}",
            jurisdiction=template.jurisdiction,
            country=template.country,
            provider="aws",
            cloud_region="eu-central-1",
        )
        key = KeyReference.objects.create(
            region=region, name="k", uri=f"arn:aws:kms:eu-central-1:111122223333:key/extra-{n}"
        )
        DataStore.objects.create(
            region=region, name="s", kind="queue", location_uri="q://x", retention_days=5, key=key
        )
        ResidencyRule.objects.create(
            region=region, position=1, home_jurisdiction=template.jurisdiction
        )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


@pytest.mark.parametrize(
    "url",
    [
        "/regions/",
        "/api/v1/regions/",
        "/api/v1/data-stores/",
        "/api/v1/key-references/",
        "/api/v1/residency-rules/",
        "/api/v1/inference-endpoints/",
        "/audit/",
    ],
)
def test_list_queries_do_not_grow_with_rows(estate, client, url):
    client.force_login(estate.auditor)
    small = _queries(client, url)
    _grow_estate(30, estate)
    assert _queries(client, url) == small
