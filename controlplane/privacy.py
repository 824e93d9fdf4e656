"""Does a piece of text carry personal data? A pure, deliberately strict detector.

The control plane stores metadata only. Wherever an agent (or any machine) sends free text,
the text passes through here first and is refused if it looks like an e-mail address, a
phone number, an IP address, an IBAN or a payment card number. False positives cost a 400;
a false negative would put personal data where it must never be.
"""

import ipaddress
import re

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().-]{6,}\d(?![\w.])")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?\b")
CARD = re.compile(r"(?<!\w)(?:\d[ -]?){12,18}\d(?!\w)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _iban_ok(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(c, 36)) for c in rearranged)
    return int(number) % 97 == 1


def personal_data_kinds(text: str) -> list[str]:
    """The kinds of personal data ``text`` seems to hold (empty when none)."""
    if not text:
        return []
    kinds = []
    if EMAIL.search(text):
        kinds.append("e-mail address")
    for match in IPV4.finditer(text):
        if all(int(part) <= 255 for part in match.group().split(".")):
            kinds.append("IP address")
            break
    for match in IPV6.finditer(text):
        try:
            ipaddress.IPv6Address(match.group())
        except ValueError:
            continue
        kinds.append("IP address")
        break
    if any(_iban_ok(m.group()) for m in IBAN.finditer(text)):
        kinds.append("IBAN")
    cards = [re.sub(r"[ -]", "", m.group()) for m in CARD.finditer(text)]
    if any(13 <= len(c) <= 19 and _luhn_ok(c) for c in cards):
        kinds.append("payment card number")
    for match in PHONE.finditer(text):
        if "IP address" in kinds and IPV4.fullmatch(match.group()):
            continue
        if sum(ch.isdigit() for ch in match.group()) >= 8:
            kinds.append("phone number")
            break
    return sorted(set(kinds))


def refuse_personal_data(value: str) -> str:
    """A validator for serializer fields that take free text from machines."""
    from rest_framework.exceptions import ValidationError

    kinds = personal_data_kinds(value)
    if kinds:
        raise ValidationError(
            f"This looks like personal data ({', '.join(kinds)}). The control plane accepts "
            "metadata only; nothing was stored."
        )
    return value
