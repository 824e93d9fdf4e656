"""The red-team corpus: personal data in every position a string can take, each refused in full.

Every payload also carries a perfectly valid item, so "refused in full" is tested: not even the
good item may be stored. The refusal log and the answer must never repeat the value.
"""

import copy
import json

import pytest

from controlplane.metrics.models import MetricBatch, MetricPoint, MetricRefusal
from tests.metrics.conftest import batch

pytestmark = pytest.mark.django_db

PERSONAL = {
    "e-mail": "jane.doe@example.org",
    "phone (international)": "+44 20 7946 0958",
    "phone (national, DE)": "(030) 1234-5678",
    "phone digits as a string": "4915112345678",
    "card as a string": "4111111111111111",
    "card with spaces": "4111 1111 1111 1111",
    "IBAN": "DE89 3704 0044 0532 0130 00",
    "IPv4": "192.168.10.23",
    "IPv6": "2001:db8::8a2e:370:7334",
    "full-width phone": "\uff14\uff19\uff11\uff15\uff11\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18",
    "full-width at-sign": "jane.doe\uff20example.org",
    "Cyrillic look-alike e-mail": "j\u0430ne.doe@ex\u0430mple.org",
}


def _set(path):
    """A function that puts a string at ``path`` in a copy of a good batch."""

    def put(body, text):
        body = copy.deepcopy(body)
        item = body["items"][1]
        if path == "metric":
            item["metric"] = text
        elif path == "dimension key":
            item["dimensions"] = {text: item["dimensions"].get("model_version", "x")}
        elif path == "dimension value":
            item["dimensions"]["model_version"] = text
        elif path == "idempotency key":
            body["idempotency_key"] = text
        elif path == "unknown top-level key":
            body[text] = 1
        elif path == "unknown top-level value":
            body["note"] = text
        elif path == "nested unknown field":
            body["meta"] = {"source": {"labels": [{"owner": text}]}}
        elif path == "item unknown key":
            item[text] = True
        elif path == "item unknown nested value":
            item["extra"] = [[text]]
        elif path == "value as a string":
            item["value"] = text
        elif path == "count as a string":
            item["count"] = text
        elif path == "period start":
            body["period_start"] = text
        elif path == "suppressed as a string":
            body["suppressed"] = text
        elif path == "dimension value in a list":
            item["dimensions"]["model_version"] = [text]
        return body

    return put


POSITIONS = [
    "metric",
    "dimension key",
    "dimension value",
    "idempotency key",
    "unknown top-level key",
    "unknown top-level value",
    "nested unknown field",
    "item unknown key",
    "item unknown nested value",
    "value as a string",
    "count as a string",
    "period start",
    "suppressed as a string",
    "dimension value in a list",
]


def corpus(good):
    payloads = []
    kinds = list(PERSONAL.items())
    for index, position in enumerate(POSITIONS):
        # Every position with at least five different kinds, rotating through the list.
        for shift in range(5):
            label, text = kinds[(index + shift) % len(kinds)]
            payloads.append((f"{label} as {position}", text, _set(position)(good, text)))
    return payloads


def test_the_corpus_is_refused_in_full_and_no_value_is_kept(post_batch, eu_version):
    good_item = {
        "metric": "inference.requests",
        "dimensions": {"model_version": eu_version},
        "value": 30.0,
        "count": 30,
    }
    good = batch([dict(good_item, dimensions={}), good_item])
    payloads = corpus(good)
    assert len(payloads) >= 60
    assert post_batch(good).status_code == 201  # the base batch itself is fine...
    MetricPoint.objects.all().delete()
    MetricBatch.objects.all().delete()

    failures = []
    for name, text, body in payloads:
        response = post_batch(body)
        codes = {r["code"] for r in response.json().get("reasons", [])}
        answer = response.content.decode("utf-8")
        if response.status_code != 400:
            failures.append(f"{name}: HTTP {response.status_code}")
        elif not codes & {"personal_data", "not_ascii"}:
            failures.append(f"{name}: not recognised as personal data ({sorted(codes)})")
        elif text in answer or json.dumps(text)[1:-1] in answer:
            failures.append(f"{name}: the answer repeats the value")
    assert not failures, "\n".join(failures)
    assert MetricPoint.objects.count() == 0  # ...but not one row of any refused payload
    assert MetricBatch.objects.count() == 0
    assert MetricRefusal.objects.count() == len(payloads)
    log = json.dumps(list(MetricRefusal.objects.values("codes", "reasons")), ensure_ascii=False)
    for _, text, _ in payloads:
        assert text not in log
    for fragment in ("jane", "doe", "7946", "example", "4111", "192.168", "0532"):
        assert fragment not in log
