"""The API's request parsers: a body is refused before anything reads its values when it is too
big, too deep, too long, or holds what no column can store.

One place for the limits every API body obeys (the metrics batch keeps its own, stricter
parser in ``controlplane.metrics.validation``):

- at most ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (Django's own limit), else a JSON 413;
- JSON nested at most ``MAX_DEPTH`` levels (a 2 KB body of brackets raised RecursionError);
- at most ``MAX_ITEMS`` entries in any list or object (a 60,000-item list took 30 s);
- no NUL character in any string or key of a JSON or form body (PostgreSQL text cannot hold
  one; paths, query strings and pages' forms: ``controlplane.web.middleware.RefuseNulMiddleware``);
- numbers that are finite and integers that fit 64 bits (no NaN, Infinity, 1e999, 10**30).
"""

import json
from io import BytesIO

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from controlplane.api.exceptions import PayloadTooLarge

MAX_DEPTH = 32
MAX_ITEMS = 1000
INT64 = 2**63 - 1


def max_body_bytes() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440


def read_limited(stream) -> bytes:
    """The body, or PayloadTooLarge once it passes the limit (whatever Content-Length says)."""
    limit = max_body_bytes()
    data = stream.read(limit + 1) if stream is not None else b""
    if len(data) > limit:
        raise PayloadTooLarge(limit)
    return data


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _int64(text: str) -> int:
    value = int(text)
    if not -INT64 <= value <= INT64:
        raise ValueError(f"integer out of range: {text[:40]}")
    return value


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def check_shape(data) -> None:
    """Depth, list and object sizes, and NUL characters, without recursion."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > MAX_DEPTH:
                raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
            if len(node) > MAX_ITEMS:
                raise ParseError(f"A JSON list or object holds more than {MAX_ITEMS} entries.")
            if isinstance(node, dict):
                for key, value in node.items():
                    if "\x00" in key:
                        raise ParseError("NUL characters are not allowed.")
                    stack.append((value, depth + 1))
            else:
                stack.extend((value, depth + 1) for value in node)
        elif isinstance(node, str) and "\x00" in node:
            raise ParseError("NUL characters are not allowed.")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = read_limited(stream).decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(f"The body is not {encoding}.") from error
        try:
            data = json.loads(
                text, parse_constant=_no_constant, parse_float=_finite, parse_int=_int64
            )
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.") from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        check_shape(data)
        return data


def refuse_nul(data) -> None:
    """A form body (a QueryDict) holding a NUL anywhere: refused."""
    for key, values in data.lists():
        if "\x00" in key or any(isinstance(v, str) and "\x00" in v for v in values):
            raise ParseError("NUL characters are not allowed.")


class FormParser(parsers.FormParser):
    """Form bodies (the token endpoint takes them): the same size limit and no NUL. Django's
    QueryDict caps the number of fields (``DATA_UPLOAD_MAX_NUMBER_FIELDS``)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(BytesIO(read_limited(stream)), media_type, parser_context)
        refuse_nul(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    """Django's multipart parser enforces the size limit itself; no NUL in its fields."""

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        refuse_nul(parsed.data)
        return parsed


DEFAULT = [JSONParser, FormParser, MultiPartParser]
