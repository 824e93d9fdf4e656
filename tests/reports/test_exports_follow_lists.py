"""Exports go through their list page's FilterSet: the same rows in the same order for the same
query string (search ``q``, filters, ``ordering``, the page's defaults), the same sentence for a
bad value, and a number of queries that does not grow with the rows."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from controlplane.audit.services import record_event
from controlplane.modelregistry.models import DeploymentApproval
from controlplane.transfers.models import Mechanism, TransferRecord
from tests.reports.conftest import bulk_transfers

pytestmark = pytest.mark.django_db

# dataset, its list page, who looks, a query that searches, filters and sorts, the export's
# reference column, and the same reference read from a row of the page.
CASES = [
    (
        "transfer-register",
        "transfers:queue",
        "dpo_eu",
        "status=all&q=Bangalore&ordering=-submitted",
        "reference",
        str,
    ),
    (
        "mechanisms",
        "transfers:mechanisms",
        "requester",
        "q=Japan&kind=adequacy&ordering=-ends",
        "key",
        lambda m: m.key,
    ),
    (
        "transfer-log",
        "transfers:records",
        "auditor",
        "q=eu-west&violations=0&ordering=-volume",
        "id",
        lambda r: str(r.pk),
    ),
    (
        "deployments",
        "modelregistry:queue",
        "auditor",
        "status=all&q=fraud&ordering=region",
        "reference",
        str,
    ),
    (
        "audit",
        "audit:list",
        "auditor",
        "q=transfer&actor_kind=user&ordering=sequence",
        "sequence",
        lambda e: str(e.sequence),
    ),
]
IDS = [case[0] for case in CASES]
# The whole list: the queues' default status lifted.
ALL = {"transfer-register": "status=all", "deployments": "status=all"}


def body(response) -> str:
    assert response.streaming, "exports must stream"
    return b"".join(response.streaming_content).decode("utf-8-sig")


def export_url(dataset, fmt, query="", *, api=False):
    name = "export" if api else "reports:export"
    return reverse(name, args=[dataset, fmt]) + (f"?{query}" if query else "")


def page_rows(client, page, query, reference):
    """Every row the list page shows for ``query``, across all its pages, in order."""
    response = client.get(reverse(page) + f"?{query}")
    assert response.status_code == 200, response.content[:500]
    return [reference(row) for row in response.context["list"].page.paginator.object_list]


@pytest.fixture
def more_rows(demo):
    """A few more log rows in eu-west with distinct volumes, so search and sort have work."""
    now = timezone.now()
    TransferRecord.objects.bulk_create(
        TransferRecord(
            source_region=demo.eu_west if i % 2 else demo.eu_central,
            destination_country=demo.us_east.country,
            categories=["user.contact.email"],
            volume=10 * i,
            executed_at=now - timedelta(minutes=i),
            reported_by="test",
        )
        for i in range(1, 7)
    )


@pytest.mark.parametrize(("dataset", "page", "who", "query", "column", "reference"), CASES, ids=IDS)
def test_an_export_holds_exactly_the_rows_of_its_list_page(
    demo, more_rows, client, dataset, page, who, query, column, reference
):
    user = getattr(demo, who)
    client.force_login(user)
    shown = page_rows(client, page, query, reference)
    assert shown, "the query must find something"
    everything = [
        r[column]
        for r in csv.DictReader(
            io.StringIO(body(client.get(export_url(dataset, "csv", ALL.get(dataset, "")))))
        )
    ]
    assert len(shown) < len(everything), "the search and filters must narrow the list"

    csv_refs = [
        r[column]
        for r in csv.DictReader(io.StringIO(body(client.get(export_url(dataset, "csv", query)))))
    ]
    json_refs = [
        str(r[column]) for r in json.loads(body(client.get(export_url(dataset, "json", query))))
    ]
    assert csv_refs == shown
    assert json_refs == shown

    _, token = AuthToken.objects.create(user=user)
    api = client.get(
        export_url(dataset, "csv", query, api=True), HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert [r[column] for r in csv.DictReader(io.StringIO(body(api)))] == shown


def test_the_sort_order_of_the_page_is_the_order_of_the_export(demo, more_rows, client):
    client.force_login(demo.auditor)
    ascending = page_rows(client, "transfers:records", "ordering=volume", lambda r: str(r.pk))
    descending = page_rows(client, "transfers:records", "ordering=-volume", lambda r: str(r.pk))
    assert ascending == list(reversed(descending)) and len(ascending) > 3
    for query, expected in (("ordering=volume", ascending), ("ordering=-volume", descending)):
        rows = csv.DictReader(
            io.StringIO(body(client.get(export_url("transfer-log", "csv", query))))
        )
        assert [r["id"] for r in rows] == expected


BAD = [
    ("transfer-register", "transfers:queue", "dpo_eu", "status=perhaps"),
    ("mechanisms", "transfers:mechanisms", "requester", "kind=treaty"),
    ("transfer-log", "transfers:records", "auditor", "since=last-tuesday"),
    ("deployments", "modelregistry:queue", "auditor", "region=atlantis"),
    ("audit", "audit:list", "auditor", "ordering=-colour"),
]


@pytest.mark.parametrize(("dataset", "page", "who", "query"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_filter_value_answers_the_pages_sentence(demo, client, dataset, page, who, query):
    user = getattr(demo, who)
    client.force_login(user)
    on_page = client.get(reverse(page) + f"?{query}")
    assert on_page.status_code == 400
    sentence = on_page.context["list"].error
    assert sentence.startswith("Check the filters:")
    name = query.split("=")[0]
    assert f"({name})" in sentence

    for fmt in ("csv", "json"):
        web = client.get(export_url(dataset, fmt, query))
        assert web.status_code == 400 and web.content.decode() == sentence

    _, token = AuthToken.objects.create(user=user)
    api = client.get(
        export_url(dataset, "json", query, api=True), HTTP_AUTHORIZATION=f"Token {token}"
    )
    assert api.status_code == 400
    assert api.json()["detail"] == sentence and name in api.json()["filters"]


def _grow(dataset, demo):
    """Add rows to ``dataset`` (with their relations) in a few statements."""
    if dataset in ("transfer-register", "transfer-log"):
        bulk_transfers(12, regions=[demo.eu_central, demo.eu_west])
    elif dataset == "mechanisms":
        for n, m in enumerate(Mechanism.objects.filter(kind="adequacy")[:12]):
            m.pk, m.key = None, f"{m.key}-copy-{n}"
            m.save()
    elif dataset == "deployments":
        template = DeploymentApproval.objects.filter(region=demo.eu_west).first()
        fields = {
            f.attname: getattr(template, f.attname)
            for f in DeploymentApproval._meta.concrete_fields
            if not f.primary_key
        }
        fields.update(status="rejected", is_desired=False)
        DeploymentApproval.objects.bulk_create(DeploymentApproval(**fields) for _ in range(12))
    else:
        for n in range(12):
            record_event(action="transfer.test", obj=demo.eu_west, actor=demo.admin, data={"n": n})


def _queries(client, dataset, query):
    with CaptureQueriesContext(connection) as queries:
        rows = body(client.get(export_url(dataset, "csv", query)))
    return len(queries), rows.count("\n") - 1


@pytest.mark.parametrize("dataset", IDS)
def test_an_export_runs_a_fixed_number_of_queries(demo, client, dataset):
    client.force_login(demo.admin)
    query = ALL.get(dataset, "")
    before, rows_before = _queries(client, dataset, query)
    _grow(dataset, demo)
    after, rows_after = _queries(client, dataset, query)
    assert rows_after >= rows_before + 12
    assert after == before, (
        f"{dataset}: {before} queries for {rows_before} rows, {after} for {rows_after}"
    )
