"""Validation of key references: an address of a key, never the key itself."""

import base64
import binascii
import re

from django.core.exceptions import ValidationError

AWS_KMS_ARN = re.compile(
    r"^arn:(?P<partition>aws|aws-us-gov|aws-cn):kms:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):"
    r"(?P<account>\d{12}):(?P<kind>key|alias)/(?P<name>[A-Za-z0-9/_-]{1,256})$"
)
AZURE_KEY_VAULT_URI = re.compile(
    r"^https://(?P<vault>[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9])\.vault\.azure\.net/keys/"
    r"(?P<name>[a-zA-Z0-9-]{1,127})(?:/(?P<version>[a-f0-9]{32}))?/?$"
)
PEM_MARKER = re.compile(r"-----BEGIN [A-Z ]*(PRIVATE|PUBLIC)? ?KEY-----")


def looks_like_key_material(value: str) -> bool:
    """True for PEM blocks, JWKs and long base64/hex blobs: secrets must never be stored here."""
    text = value.strip()
    if PEM_MARKER.search(text) or '"kty"' in text or "'kty'" in text:
        return True
    compact = re.sub(r"\s+", "", text)
    if re.fullmatch(r"[0-9a-fA-F]{32,}", compact):
        return True
    if len(compact) >= 32 and re.fullmatch(r"[A-Za-z0-9+/=_-]+", compact):
        try:
            decoded = base64.b64decode(compact + "=" * (-len(compact) % 4), altchars=b"-_")
        except (binascii.Error, ValueError):
            return False
        return len(decoded) >= 16
    return False


def parse_key_reference(uri: str) -> dict:
    """Return ``{"provider": "aws_kms"|"azure_key_vault", ...}`` or raise ValidationError."""
    if looks_like_key_material(uri):
        raise ValidationError(
            "This looks like key material. Store only a reference to a key "
            "(an AWS KMS key ARN or an Azure Key Vault key URI), never the key.",
            code="key_material",
        )
    if match := AWS_KMS_ARN.match(uri):
        return {"provider": "aws_kms", "cloud_region": match["region"], **match.groupdict()}
    if match := AZURE_KEY_VAULT_URI.match(uri):
        return {"provider": "azure_key_vault", **match.groupdict()}
    raise ValidationError(
        "Not a key reference. Expected arn:aws:kms:<region>:<account>:key/<id> "
        "or https://<vault>.vault.azure.net/keys/<name>[/<version>].",
        code="invalid_key_reference",
    )
