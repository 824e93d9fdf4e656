"""The detector that keeps personal data out of machine-sent free text."""

import pytest

from controlplane.privacy import personal_data_kinds


@pytest.mark.parametrize(
    "text,kind",
    [
        ("contact jane.doe@example.org about it", "e-mail address"),
        ("client at 192.168.10.23 failed", "IP address"),
        ("peer 2001:db8::8a2e:370:7334 refused", "IP address"),
        ("call +44 20 7946 0958 tomorrow", "phone number"),
        ("(030) 1234-5678", "phone number"),
        ("pay to DE89 3704 0044 0532 0130 00", "IBAN"),
        ("IBAN GB82WEST12345698765432", "IBAN"),
        ("card 4111 1111 1111 1111 declined", "payment card number"),
    ],
)
def test_personal_data_is_recognised(text, kind):
    assert kind in personal_data_kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "bundle version 12 is lower than the applied version 13",
        "signature by unknown key ed25519:3f9a0c1d2e4b5a6978877665544332211",
        "digest sha256:1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef",
        "freshness statement expired at 2026-11-25T14:00:00Z",
        "Acme Europe GmbH",
        "version 1.2.3-rc1 of the model (3 of 4 shards)",
        "",
    ],
)
def test_protocol_messages_and_entity_names_pass(text):
    assert personal_data_kinds(text) == []
