import pytest
from django.core.exceptions import ValidationError

from regions.models import KeyReference
from regions.validators import looks_like_key_material, parse_key_reference

pytestmark = pytest.mark.django_db

GOOD_ARN = "arn:aws:kms:eu-central-1:111122223333:key/0f6a3c1e-5b7d-4e2a-9c8b-1d2e3f4a5b6c"


def test_aws_arn_and_azure_uri_are_parsed():
    assert parse_key_reference(GOOD_ARN)["cloud_region"] == "eu-central-1"
    parsed = parse_key_reference(
        "https://kv-cp-uksouth.vault.azure.net/keys/data/0123456789abcdef0123456789abcdef"
    )
    assert parsed["provider"] == "azure_key_vault" and parsed["vault"] == "kv-cp-uksouth"


@pytest.mark.parametrize(
    "material",
    [
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKmX\n-----END PRIVATE KEY-----",
        '{"kty":"oct","k":"GawgguFyGrWKav7AX4VKUg"}',
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "q83vEi3RiSXZkT7LpFvGxP9JdZc0sHqX4bUo2Tn1vMw=",
    ],
)
def test_anything_that_looks_like_key_material_is_refused(material):
    assert looks_like_key_material(material)
    with pytest.raises(ValidationError, match="looks like key material"):
        parse_key_reference(material)


def test_a_key_in_another_cloud_region_is_refused(estate):
    key = KeyReference(
        region=estate.eu_central,
        name="wrong-place",
        uri="arn:aws:kms:us-east-1:111122223333:key/7c2d9e4f-1a3b-4c5d-8e6f-9a0b1c2d3e4f",
    )
    with pytest.raises(ValidationError) as error:
        key.full_clean()
    assert "us-east-1" in str(error.value) and "region-local" in str(error.value)


def test_provider_must_match_the_region(estate):
    key = KeyReference(region=estate.uk_south, name="aws-in-azure", uri=GOOD_ARN)
    with pytest.raises(ValidationError, match="cannot serve uk-south"):
        key.full_clean()
    ok = KeyReference(region=estate.eu_central, name="second", uri=GOOD_ARN.replace("0f6a", "1f6a"))
    ok.full_clean()
    assert ok.key_provider == "aws_kms"


def test_api_refuses_a_foreign_key_with_a_field_message_and_changes_nothing(estate, client):
    client.force_login(estate.admin)
    before = KeyReference.objects.count()
    response = client.post(
        "/api/v1/key-references/",
        {
            "region": "eu-central",
            "name": "x",
            "uri": "arn:aws:kms:us-east-1:111122223333:key/abc-def",
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "uri" in response.json()
    assert KeyReference.objects.count() == before
