"""Infrastructure as code per region: structure, HCL parsing, parliament, checkov, and what
the SCP actually denies."""

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import hcl2
import pytest
from parliament import analyze_policy_string

from regions import iac
from regions.selectors import iac_facts
from tests.conftest import missing_service
from tests.regions.iam_evaluation import denied

ROOT = Path(__file__).resolve().parents[2]
OWN_KEY = "arn:aws:kms:eu-central-1:111122223333:key/0f6a3c1e-5b7d-4e2a-9c8b-1d2e3f4a5b6c"
AWS = iac.RegionFacts(
    slug="eu-central",
    name="EU Central (Frankfurt)",
    jurisdiction="EEA",
    country="DE",
    provider="aws",
    cloud_region="eu-central-1",
    keys=(iac.KeyFacts("data-at-rest", OWN_KEY),),
    stores=(
        iac.StoreFacts("event-lake", "object_store", "s3://events-eu-central/raw", 90, OWN_KEY),
    ),
)
AZURE = iac.RegionFacts(
    slug="eu-west",
    name="EU West (Amsterdam)",
    jurisdiction="EEA",
    country="NL",
    provider="azure",
    cloud_region="westeurope",
    keys=(iac.KeyFacts("data-at-rest", "https://kv-cp-westeurope.vault.azure.net/keys/k1"),),
)


# --- what the SCP denies ----------------------------------------------------------------


@pytest.mark.parametrize(
    "action, region, expected",
    [
        ("ec2:RunInstances", "us-east-1", "DenyOutsideRegion"),
        ("s3:PutObject", "eu-west-1", "DenyOutsideRegion"),
        ("sagemaker:CreateEndpoint", "ap-northeast-1", "DenyOutsideRegion"),
        ("ec2:RunInstances", "eu-central-1", None),
        ("s3:PutObject", "eu-central-1", None),
        ("iam:CreateRole", "us-east-1", None),  # global service, exempt
        ("route53:ChangeResourceRecordSets", "us-east-1", None),
        ("s3:ListAllMyBuckets", "us-east-1", None),
    ],
)
def test_the_scp_denies_requests_to_other_regions_and_allows_its_own(action, region, expected):
    scp = iac.aws_scp(AWS)
    assert denied(scp, action=action, context={"aws:RequestedRegion": region}) == expected


def test_the_scp_denies_kms_use_of_any_key_but_the_regions_own():
    scp = iac.aws_scp(AWS)
    here = {"aws:RequestedRegion": "eu-central-1"}
    assert denied(scp, action="kms:Decrypt", resource=OWN_KEY, context=here) is None
    assert denied(scp, action="kms:GenerateDataKey", resource=OWN_KEY, context=here) is None
    stranger = "arn:aws:kms:eu-central-1:444455556666:key/1b2c3d4e-0000-4000-8000-000000000000"
    assert denied(scp, action="kms:Decrypt", resource=stranger, context=here) == (
        "DenyKeysOfOtherRegions"
    )
    # The region's own key is not reachable from another region either.
    there = {"aws:RequestedRegion": "us-east-1"}
    assert denied(scp, action="kms:Decrypt", resource=OWN_KEY, context=there) == (
        "DenyOutsideRegion"
    )


def test_a_region_without_key_references_may_use_no_key_at_all():
    bare = iac.RegionFacts("x", "X", "EEA", "DE", "aws", "eu-central-1")
    assert denied(
        iac.aws_scp(bare),
        action="kms:Decrypt",
        resource=OWN_KEY,
        context={"aws:RequestedRegion": "eu-central-1"},
    )


def test_the_scp_passes_parliament_and_fits_aws_size_limit():
    text = json.dumps(iac.aws_scp(AWS))
    assert len(text) <= iac.SCP_MAX_BYTES
    policy = analyze_policy_string(text)
    assert [(f.issue, f.detail) for f in policy.findings] == []
    # parliament does catch mistakes of this kind: a misspelt action.
    broken = json.loads(text)
    broken["Statement"][1]["Action"].append("kms:Decrypted")
    assert "UNKNOWN_ACTION" in {f.issue for f in analyze_policy_string(json.dumps(broken)).findings}


def test_every_exemption_is_explained():
    assert all(why.strip() for _, why in iac.GLOBAL_SERVICES)
    note = iac.global_services_note(AWS)
    assert all(f"`{action}`" in note for action, _ in iac.GLOBAL_SERVICES)


# --- Azure Policy ----------------------------------------------------------------------


def test_the_azure_policy_allows_only_the_regions_location():
    rule = iac.azure_policy(AZURE)["properties"]
    assert rule["parameters"]["listOfAllowedLocations"]["defaultValue"] == ["westeurope"]
    assert rule["policyRule"]["then"] == {"effect": "deny"}
    conditions = rule["policyRule"]["if"]["allOf"]
    assert {"field": "location", "notIn": "[parameters('listOfAllowedLocations')]"} in conditions
    with pytest.raises(iac.NotApplicable):
        iac.aws_scp(AZURE)
    with pytest.raises(iac.NotApplicable):
        iac.azure_policy(AWS)


# --- Terraform ---------------------------------------------------------------------------


def _label(name: str) -> str:
    return name.strip('"')  # python-hcl2 8 keeps the quotes of block labels


def _declared_variables(files: dict) -> dict:
    parsed = hcl2.loads(files["terraform/variables.tf"])
    return {_label(name): body for block in parsed["variable"] for name, body in block.items()}


@pytest.mark.parametrize("region", [AWS, AZURE], ids=lambda r: r.provider)
def test_the_terraform_module_parses_and_its_tfvars_fill_every_variable(region):
    files = iac.documents(region)
    for name in iac.TERRAFORM_FILES:
        hcl2.loads(files[f"terraform/{name}"])  # raises on a syntax error
    variables = _declared_variables(files)
    tfvars = json.loads(files["terraform/terraform.tfvars.json"])
    assert set(tfvars) == set(variables)
    assert tfvars["cloud_region"] == region.cloud_region
    assert tfvars["key_references"] == {k.name: k.uri for k in region.keys}
    main = hcl2.loads(files["terraform/main.tf"])
    resources = {
        _label(kind): {_label(name): b for name, b in body.items()}
        for block in main["resource"]
        for kind, body in block.items()
    }
    if region.provider == "aws":
        assert tfvars["scp_target_id"] == "111122223333"  # the account of its keys
        assert tfvars["data_stores"]["event-lake"]["location_uri"] == "s3://events-eu-central/raw"
        content = resources["aws_organizations_policy"]["residency"]["content"]
        assert "eu-central-1" in content and "DenyKeysOfOtherRegions" in content
        assert "aws_organizations_policy_attachment" in resources
    else:
        assert "azurerm_policy_definition" in resources
        assert "westeurope" in resources["azurerm_policy_definition"]["residency"]["parameters"]


def test_hcl_strings_escape_template_sequences():
    """A value that looks like an interpolation stays text in Terraform."""
    literal = iac.hcl_string('a ${b} %{c} "q"')
    assert literal == r'"a $${b} %%{c} \"q\""'
    assert hcl2.loads("x = " + literal + "\n")["x"] == literal  # parses as one string


# --- checkov -----------------------------------------------------------------------------


def _checkov() -> str:
    candidates = [
        os.environ.get("CHECKOV", ""),
        str(ROOT / ".venv" / "checkov" / "bin" / "checkov"),
        shutil.which("checkov") or "",
    ]
    found = next((c for c in candidates if c and Path(c).exists()), None)
    if found is None:
        missing_service("needs checkov (make install puts it in .venv/checkov)")
    return found


def test_checkov_finds_no_failed_check_in_any_module(tmp_path):
    """One bounded run over an AWS and an Azure module (checkov takes 10-30 s to start)."""
    checkov = _checkov()
    for region in (AWS, AZURE):
        for name, text in iac.documents(region).items():
            path = tmp_path / region.slug / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    run = subprocess.run(
        [checkov, "-d", str(tmp_path), "--framework", "terraform", "--quiet", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    report = json.loads(run.stdout)
    reports = report if isinstance(report, list) else [report]
    summary = reports[0]["summary"]
    failed = [
        (c["check_id"], c["check_name"], c["resource"])
        for r in reports
        for c in r["results"].get("failed_checks", [])
    ]
    assert failed == [], failed
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] >= 4
    assert summary["passed"] >= 1


# --- from the database, over HTTP --------------------------------------------------------


def test_the_demo_estate_yields_documents_for_every_region(estate, django_assert_max_num_queries):
    from regions.models import Region

    with django_assert_max_num_queries(4):
        facts = iac_facts(Region.objects.all())
    assert [f.slug for f in facts] == sorted(r.slug for r in Region.objects.all())
    for region in facts:
        files = iac.documents(region)
        assert ("scp.json" in files) == (region.provider == "aws")
        assert ("azure-policy.json" in files) == (region.provider == "azure")
        if region.provider == "aws":
            scp = json.loads(files["scp.json"])
            assert (
                denied(
                    scp,
                    action="ec2:RunInstances",
                    context={"aws:RequestedRegion": region.cloud_region},
                )
                is None
            )
            assert scp["Statement"][1]["NotResource"] == region.aws_key_arns


def test_pages_and_api_serve_the_files_and_zips_scoped(estate, client):
    client.force_login(estate.dpo_uk)
    page = client.get("/regions/uk-south/").content.decode()
    assert "azure-policy.json" in page and "terraform/main.tf" in page
    response = client.get("/regions/uk-south/iac/azure-policy.json")
    assert response.status_code == 200 and "uksouth" in response.content.decode()
    assert client.get("/regions/eu-central/iac/scp.json").status_code == 404
    assert client.get("/regions/uk-south/iac/../../etc/passwd").status_code == 404
    archive = zipfile.ZipFile(io.BytesIO(client.get("/regions/iac.zip").content))
    assert {n.split("/")[0] for n in archive.namelist()} == {"uk-south"}

    listing = client.get("/api/v1/regions/uk-south/iac/").json()
    assert "terraform/terraform.tfvars.json" in listing["files"]
    api_file = client.get("/api/v1/regions/uk-south/iac/terraform/terraform.tfvars.json")
    assert api_file.status_code == 200 and api_file.json()["cloud_region"] == "uksouth"
    assert client.get("/api/v1/regions/eu-central/iac/").status_code == 404

    client.force_login(estate.auditor)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/api/v1/regions/iac.zip").content))
    names = archive.namelist()
    assert {n.split("/")[0] for n in names} == {
        "ap-northeast",
        "eu-central",
        "eu-west",
        "uk-south",
        "us-east",
    }
    assert "eu-central/scp.json" in names and "eu-west/azure-policy.json" in names
    assert "us-east/terraform/terraform.tfvars.json" in names
    # The same facts give the same bytes.
    assert (
        client.get("/api/v1/regions/iac.zip").content
        == client.get("/api/v1/regions/iac.zip").content
    )
