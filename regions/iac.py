"""Infrastructure as code per region: pure functions from a region's facts to documents.

* an AWS Service Control Policy that denies every action requested outside the region's cloud
  region (global services exempted, each with its reason) and denies KMS use of any key but the
  region's own key references;
* an Azure Policy definition that allows resources only in the region's location;
* a Terraform module (HCL) that creates the policy and attaches it, with a ``.tfvars.json``
  holding the region, its key references, its data-store locations and the attachment target.

The selectors (``regions.selectors_iac``) read the facts; the views serve the files and a zip.
Nothing here reads the database, so the tests parse and scan exactly what is served.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field

from regions.validators import AWS_KMS_ARN, AZURE_KEY_VAULT_URI

SCP_MAX_BYTES = 5120  # AWS Organizations' limit for one SCP document

# Services whose calls are answered in one fixed region (mostly us-east-1) whatever region the
# workload runs in, so a region-deny would break them. Exempting them lets no data settle
# elsewhere: none of them stores the region's personal data.
GLOBAL_SERVICES: tuple[tuple[str, str], ...] = (
    ("iam:*", "IAM is global; its single endpoint is in us-east-1."),
    ("organizations:*", "AWS Organizations is global; it also manages this very policy."),
    ("sts:*", "STS's global endpoint answers in us-east-1 for clients not set to a regional one."),
    ("account:*", "Account settings (contacts, enabled regions) are global."),
    ("support:*", "AWS Support cases are global."),
    ("health:*", "The AWS Health API's global endpoint is in us-east-1."),
    ("trustedadvisor:*", "Trusted Advisor is a global service."),
    ("budgets:*", "Budgets are global (billing data, not personal data)."),
    ("ce:*", "Cost Explorer is global (billing data)."),
    ("cur:*", "Cost and Usage Reports are configured through us-east-1."),
    ("aws-portal:*", "Billing console access is global."),
    ("pricing:*", "The Price List API is answered from a few fixed regions."),
    ("cloudfront:*", "CloudFront is a global edge service configured through us-east-1."),
    ("route53:*", "Route 53 (DNS) is global."),
    ("route53domains:*", "Domain registration lives in us-east-1."),
    ("globalaccelerator:*", "Global Accelerator is configured through us-west-2."),
    ("waf:*", "WAF Classic for CloudFront is global."),
    ("shield:*", "Shield Advanced is global."),
    ("s3:ListAllMyBuckets", "Listing buckets is answered from us-east-1; it reads names only."),
    ("s3:GetBucketLocation", "Asking where a bucket is must work before the region is known."),
    ("ec2:DescribeRegions", "Listing the regions is needed by every SDK and console page."),
)

# KMS operations that use a key on data (the ones a foreign key could decrypt or wrap).
KMS_KEY_USE = (
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:CreateGrant",
)

TERRAFORM_FILES = ("versions.tf", "variables.tf", "main.tf", "outputs.tf")


@dataclass(frozen=True, slots=True)
class KeyFacts:
    name: str
    uri: str


@dataclass(frozen=True, slots=True)
class StoreFacts:
    name: str
    kind: str
    location_uri: str
    retention_days: int
    key_uri: str | None = None


@dataclass(frozen=True, slots=True)
class RegionFacts:
    slug: str
    name: str
    jurisdiction: str
    country: str
    provider: str
    cloud_region: str
    keys: tuple[KeyFacts, ...] = field(default_factory=tuple)
    stores: tuple[StoreFacts, ...] = field(default_factory=tuple)

    @property
    def aws_key_arns(self) -> list[str]:
        return sorted(k.uri for k in self.keys if AWS_KMS_ARN.match(k.uri))

    @property
    def azure_key_uris(self) -> list[str]:
        return sorted(k.uri for k in self.keys if AZURE_KEY_VAULT_URI.match(k.uri))

    @property
    def aws_account(self) -> str:
        """The account the region's keys live in (where the SCP is attached); "" if none."""
        accounts = sorted({AWS_KMS_ARN.match(arn)["account"] for arn in self.aws_key_arns})
        return accounts[0] if len(accounts) == 1 else ""


class NotApplicable(ValueError):
    """The document does not exist for this region's provider."""


# --------------------------------------------------------------------------------------------
# AWS Service Control Policy
# --------------------------------------------------------------------------------------------


def aws_scp(region: RegionFacts) -> dict:
    if region.provider != "aws":
        raise NotApplicable(f"{region.slug} is not an AWS region; it has no SCP.")
    statements = [
        {
            "Sid": "DenyOutsideRegion",
            "Effect": "Deny",
            "NotAction": [action for action, _ in GLOBAL_SERVICES],
            "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:RequestedRegion": [region.cloud_region]}},
        }
    ]
    arns = region.aws_key_arns
    statements.append(
        {
            "Sid": "DenyKeysOfOtherRegions",
            "Effect": "Deny",
            "Action": list(KMS_KEY_USE),
            # No key reference yet: no key may be used at all, which fails closed.
            **({"NotResource": arns} if arns else {"Resource": "*"}),
        }
    )
    policy = {"Version": "2012-10-17", "Statement": statements}
    size = len(json.dumps(policy, separators=(",", ":")))
    if size > SCP_MAX_BYTES:
        raise ValueError(f"the SCP for {region.slug} is {size} bytes, over AWS's {SCP_MAX_BYTES}")
    return policy


# --------------------------------------------------------------------------------------------
# Azure Policy
# --------------------------------------------------------------------------------------------


def azure_policy(region: RegionFacts) -> dict:
    if region.provider != "azure":
        raise NotApplicable(f"{region.slug} is not an Azure region; it has no Azure Policy.")
    return {
        "properties": {
            "displayName": f"Residency: {region.slug} resources stay in {region.cloud_region}",
            "policyType": "Custom",
            "mode": "Indexed",
            "description": (
                f"Denies resources outside {region.cloud_region}, the location of {region.slug} "
                f"({region.jurisdiction}). 'global' is allowed for resources that have no "
                "location (DNS zones, Front Door, policy itself), which store no personal data."
            ),
            "metadata": {"category": "General", "source": "sovereignty control plane"},
            "parameters": {
                "listOfAllowedLocations": {
                    "type": "Array",
                    "metadata": {
                        "displayName": "Allowed locations",
                        "strongType": "location",
                    },
                    "defaultValue": [region.cloud_region],
                }
            },
            "policyRule": {
                "if": {
                    "allOf": [
                        {
                            "field": "location",
                            "notIn": "[parameters('listOfAllowedLocations')]",
                        },
                        {"field": "location", "notEquals": "global"},
                    ]
                },
                "then": {"effect": "deny"},
            },
        }
    }


# --------------------------------------------------------------------------------------------
# Terraform (HCL)
# --------------------------------------------------------------------------------------------


def hcl_string(value: str) -> str:
    """A quoted HCL string: JSON escapes, and template sequences ``${`` / ``%{`` escaped."""
    return json.dumps(value).replace("${", "$${").replace("%{", "%%{")


def hcl_value(value, indent: int = 0) -> str:
    """A Python value as an HCL expression (objects keep their keys quoted)."""
    pad = "  " * (indent + 1)
    end = "  " * indent
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = ",\n".join(pad + hcl_value(v, indent + 1) for v in value)
        return f"[\n{items},\n{end}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = "\n".join(
            f"{pad}{hcl_string(str(k))} = {hcl_value(v, indent + 1)}" for k, v in value.items()
        )
        return f"{{\n{items}\n{end}}}"
    raise TypeError(f"no HCL form for {type(value).__name__}")


def tfvars(region: RegionFacts) -> dict:
    """The module's variables for this region (``terraform.tfvars.json``)."""
    values = {
        "region_slug": region.slug,
        "jurisdiction": region.jurisdiction,
        "country": region.country,
        "cloud_region": region.cloud_region,
        "key_references": {k.name: k.uri for k in sorted(region.keys, key=lambda k: k.name)},
        "data_stores": {
            s.name: {
                "kind": s.kind,
                "location_uri": s.location_uri,
                "retention_days": s.retention_days,
                "key_reference": s.key_uri or "",
            }
            for s in sorted(region.stores, key=lambda s: s.name)
        },
    }
    if region.provider == "aws":
        values["scp_target_id"] = region.aws_account
    if region.provider == "azure":
        values["policy_assignment_scope"] = ""
    return values


def _versions(region: RegionFacts) -> str:
    providers = {
        "aws": ('aws = {\n      source  = "hashicorp/aws"\n      version = "~> 5.0"\n    }'),
        "azure": (
            'azurerm = {\n      source  = "hashicorp/azurerm"\n      version = "~> 4.0"\n    }'
        ),
    }
    block = providers.get(region.provider, "")
    return (
        "terraform {\n"
        '  required_version = ">= 1.5.0"\n'
        + (f"  required_providers {{\n    {block}\n  }}\n" if block else "")
        + "}\n"
    )


def _variables(region: RegionFacts) -> str:
    out = [
        _variable("region_slug", "string", "The control plane's name for the region."),
        _variable("jurisdiction", "string", "The jurisdiction whose law governs the region."),
        _variable("country", "string", "Where the region's data centres stand (ISO 3166-1)."),
        _variable(
            "cloud_region",
            "string",
            "The only cloud region (location) the account may use.",
            validation=(
                f"var.cloud_region == {hcl_string(region.cloud_region)}",
                f"This module pins {region.slug} to {region.cloud_region}.",
            ),
        ),
        _variable(
            "key_references",
            "map(string)",
            "The region's own key references (ARNs or Key Vault key URIs), never key material.",
        ),
        _variable(
            "data_stores",
            "map(object({\n    kind           = string\n    location_uri   = string\n"
            "    retention_days = number\n    key_reference  = string\n  }))",
            "Where the region keeps data, with the key that encrypts each store.",
        ),
    ]
    if region.provider == "aws":
        out.append(
            _variable(
                "scp_target_id",
                "string",
                'The account (or OU) the SCP is attached to; "" creates the policy only.',
                validation=(
                    'var.scp_target_id == "" || can(regex("^([0-9]{12}|ou-[a-z0-9]{4,32}-'
                    '[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$", var.scp_target_id))',
                    "An account id (12 digits), an OU id or a root id.",
                ),
            )
        )
    if region.provider == "azure":
        out.append(
            _variable(
                "policy_assignment_scope",
                "string",
                'The subscription id the policy is assigned to; "" creates the definition only.',
            )
        )
    return "\n".join(out)


def _variable(name, type_, description, validation=None) -> str:
    lines = [
        f'variable "{name}" {{',
        f"  type        = {type_}",
        f"  description = {hcl_string(description)}",
    ]
    if validation:
        condition, message = validation
        lines += [
            "  validation {",
            f"    condition     = {condition}",
            f"    error_message = {hcl_string(message)}",
            "  }",
        ]
    lines.append("}\n")
    return "\n".join(lines)


def _main(region: RegionFacts) -> str:
    head = (
        f"# Residency guard rails for {region.slug} ({region.name}): {region.jurisdiction}, "
        f"{region.provider} {region.cloud_region}.\n"
        "# Generated by the sovereignty control plane from its records; regenerate rather than edit.\n\n"
    )
    if region.provider == "aws":
        return head + (
            'provider "aws" {\n  region = var.cloud_region\n}\n\n'
            'resource "aws_organizations_policy" "residency" {\n'
            '  name        = "residency-${var.region_slug}"\n'
            '  type        = "SERVICE_CONTROL_POLICY"\n'
            '  description = "Deny actions outside ${var.cloud_region} and keys of other regions"\n'
            f"  content     = jsonencode({hcl_value(aws_scp(region), 1)})\n"
            "}\n\n"
            'resource "aws_organizations_policy_attachment" "residency" {\n'
            '  count     = var.scp_target_id == "" ? 0 : 1\n'
            "  policy_id = aws_organizations_policy.residency.id\n"
            "  target_id = var.scp_target_id\n"
            "}\n\n"
            "# Every key reference must name a key of this very region: plan fails otherwise.\n"
            'data "aws_kms_key" "region" {\n'
            "  for_each = var.key_references\n"
            "  key_id   = each.value\n"
            "}\n\n"
            'check "keys_are_region_local" {\n'
            "  assert {\n"
            "    condition     = alltrue([for arn in values(var.key_references) : "
            'split(":", arn)[3] == var.cloud_region])\n'
            '    error_message = "A key reference names another region."\n'
            "  }\n"
            "}\n"
        )
    if region.provider == "azure":
        policy = azure_policy(region)["properties"]
        return head + (
            'provider "azurerm" {\n  features {}\n}\n\n'
            'resource "azurerm_policy_definition" "residency" {\n'
            '  name         = "residency-${var.region_slug}"\n'
            '  policy_type  = "Custom"\n'
            '  mode         = "Indexed"\n'
            f"  display_name = {hcl_string(policy['displayName'])}\n"
            f"  description  = {hcl_string(policy['description'])}\n"
            f"  metadata     = jsonencode({hcl_value(policy['metadata'], 1)})\n"
            f"  parameters   = jsonencode({hcl_value(policy['parameters'], 1)})\n"
            f"  policy_rule  = jsonencode({hcl_value(policy['policyRule'], 1)})\n"
            "}\n\n"
            'resource "azurerm_subscription_policy_assignment" "residency" {\n'
            '  count                = var.policy_assignment_scope == "" ? 0 : 1\n'
            '  name                 = "residency-${var.region_slug}"\n'
            "  policy_definition_id = azurerm_policy_definition.residency.id\n"
            '  subscription_id      = "/subscriptions/${var.policy_assignment_scope}"\n'
            "  parameters = jsonencode({\n"
            "    listOfAllowedLocations = { value = [var.cloud_region] }\n"
            "  })\n"
            "}\n\n"
            'check "keys_are_key_vault_references" {\n'
            "  assert {\n"
            "    condition     = alltrue([for uri in values(var.key_references) : "
            'can(regex("^https://[a-zA-Z0-9-]+\\\\.vault\\\\.azure\\\\.net/keys/", uri))])\n'
            '    error_message = "An Azure region\'s keys are Key Vault key references."\n'
            "  }\n"
            "}\n"
        )
    return head + (
        f"# {region.provider} regions have no cloud policy to generate; the module only "
        "records the facts.\n"
    )


def _outputs(region: RegionFacts) -> str:
    out = [
        'output "residency" {\n'
        '  description = "What this region may hold, and where."\n'
        "  value = {\n"
        "    region       = var.region_slug\n"
        "    jurisdiction = var.jurisdiction\n"
        "    cloud_region = var.cloud_region\n"
        "    data_stores  = { for name, store in var.data_stores : name => store.location_uri }\n"
        "  }\n"
        "}\n"
    ]
    if region.provider == "aws":
        out.append('output "scp_id" {\n  value = aws_organizations_policy.residency.id\n}\n')
    if region.provider == "azure":
        out.append(
            'output "policy_definition_id" {\n  value = azurerm_policy_definition.residency.id\n}\n'
        )
    return "\n".join(out)


def documents(region: RegionFacts) -> dict[str, str]:
    """Every file for one region: ``name -> text``, in a stable order."""
    files: dict[str, str] = {}
    if region.provider == "aws":
        files["scp.json"] = _json(aws_scp(region))
    if region.provider == "azure":
        files["azure-policy.json"] = _json(azure_policy(region))
    files["terraform/versions.tf"] = _versions(region)
    files["terraform/variables.tf"] = _variables(region)
    files["terraform/main.tf"] = _main(region)
    files["terraform/outputs.tf"] = _outputs(region)
    files["terraform/terraform.tfvars.json"] = _json(tfvars(region))
    files["GLOBAL-SERVICES.md"] = global_services_note(region)
    return files


def global_services_note(region: RegionFacts) -> str:
    lines = [
        f"# {region.slug}: what the residency policy leaves open, and why",
        "",
    ]
    if region.provider == "aws":
        lines += [
            f"The SCP denies every action requested outside `{region.cloud_region}` except these "
            "global services, whose endpoints answer from one fixed region. None of them stores "
            "the region's personal data.",
            "",
            "| Action | Why it is exempt |",
            "|---|---|",
            *(f"| `{a}` | {why} |" for a, why in GLOBAL_SERVICES),
            "",
            "It also denies KMS use (`"
            + "`, `".join(KMS_KEY_USE)
            + "`) of any key other than the region's own key references.",
        ]
    elif region.provider == "azure":
        lines += [
            f"The Azure Policy denies resources outside `{region.cloud_region}`; `global` stays "
            "allowed for resources without a location (DNS zones, Front Door, policy "
            "assignments), which hold no personal data.",
        ]
    else:
        lines += ["No cloud policy applies to this provider; the Terraform module records facts."]
    return "\n".join(lines) + "\n"


def _json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=False) + "\n"


def zip_bytes(regions: list[RegionFacts]) -> bytes:
    """All regions' documents in one zip: ``<slug>/<file>``, fixed timestamps (same bytes for
    the same facts)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for region in sorted(regions, key=lambda r: r.slug):
            for name, text in documents(region).items():
                info = zipfile.ZipInfo(f"{region.slug}/{name}", date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, text)
    return buffer.getvalue()
