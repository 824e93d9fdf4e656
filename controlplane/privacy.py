"""Does a piece of text carry personal data? A pure, deliberately strict detector.

The control plane stores metadata only. Wherever an agent (or any machine) sends free text,
the text passes through here first and is refused if it looks like an e-mail address, a
phone number, an IP address, an IBAN or a payment card number. False positives cost a 400;
a false negative would put personal data where it must never be.

Phone numbers are recognised by Google's libphonenumber (the ``phonenumbers`` package): a
number counts when it is a valid number written internationally (``+44 20 ...``, or its digits
without the ``+``) or nationally in one of the countries in ``PHONE_REGIONS``. Text is folded
with NFKC first, so full-width digits and signs are read as the ASCII they look like.
"""

import functools
import ipaddress
import re
import unicodedata

import phonenumbers

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# National formats are read as in these countries (where the estate's regions and their usual
# data subjects are); numbers written internationally are recognised whatever their country.
PHONE_REGIONS = ("DE", "FR", "GB", "US", "CH", "JP", "IN", "BR", "NL", "IT", "ES", "IE")
DIGIT_RUN = re.compile(r"\d{8,15}")
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


def _has_phone_number(text: str) -> bool:
    if sum(ch.isdigit() for ch in text) < 7:
        return False  # no valid subscriber number is shorter; spares the parser most strings
    for region in PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        ):
            if match.number is not None:
                return True
    for run in DIGIT_RUN.findall(text):  # an international number without its "+"
        try:
            number = phonenumbers.parse("+" + run, None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


def personal_data_kinds(text: str) -> list[str]:
    """The kinds of personal data ``text`` seems to hold (empty when none)."""
    if not text:
        return []
    return list(_kinds(unicodedata.normalize("NFKC", text)))


@functools.lru_cache(maxsize=8192)
def _kinds(text: str) -> tuple[str, ...]:
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
    if _has_phone_number(IPV4.sub(" ", text) if "IP address" in kinds else text):
        kinds.append("phone number")
    return tuple(sorted(set(kinds)))


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
