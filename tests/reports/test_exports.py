"""CSV and JSON exports: the list's rows with the list's filters, streamed, scoped like the list."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from controlplane.audit.models import AuditEvent
from controlplane.modelregistry.models import DeploymentApproval
from controlplane.transfers.models import Mechanism, TransferRecord, TransferRequest
from regions.models import Country

pytestmark = pytest.mark.django_db


def body(response) -> str:
    assert response.streaming, "exports must stream"
    return b"".join(response.streaming_content).decode("utf-8-sig")


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response))))


def url(dataset, fmt, query=""):
    return reverse("reports:export", args=[dataset, fmt]) + (f"?{query}" if query else "")


def test_transfer_log_csv_applies_the_violations_filter(demo, client):
    client.force_login(demo.auditor)
    everything = csv_rows(client.get(url("transfer-log", "csv")))
    only = csv_rows(client.get(url("transfer-log", "csv", "violations=1")))
    assert len(everything) == TransferRecord.objects.count() == 2
    assert [r["id"] for r in only] == [str(TransferRecord.objects.get(violation=True).pk)]
    assert only[0]["violation"] == "true"


def test_register_json_is_scoped_like_the_queue(demo, client):
    client.force_login(demo.dpo_eu)
    rows = json.loads(body(client.get(url("transfer-register", "json", "status=all"))))
    expected = TransferRequest.objects.filter(
        source_region__slug__in=["eu-central", "eu-west"]
    ).count()
    assert len(rows) == expected > 0
    assert {r["source_region"] for r in rows} <= {"eu-central", "eu-west"}
    assert all(isinstance(r["data_categories"], list) for r in rows)

    client.force_login(demo.dpo_uk)
    assert json.loads(body(client.get(url("transfer-register", "json", "status=all")))) == []


def test_the_queue_default_filter_applies_to_its_export(demo, client):
    client.force_login(demo.dpo_eu)
    rows = csv_rows(client.get(url("transfer-register", "csv")))  # the page's default: submitted
    assert rows and {r["status"] for r in rows} == {"submitted"}


def test_mechanisms_export_through_the_api_with_a_token(demo, client):
    _, token = AuthToken.objects.create(user=demo.requester)
    response = client.get(
        reverse("export", args=["mechanisms", "csv"]) + "?kind=adequacy",
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert len(rows) == Mechanism.objects.filter(kind="adequacy").count() > 5
    assert {r["kind"] for r in rows} == {"adequacy"}


def test_deployments_export_follows_the_queue_status(demo, client):
    client.force_login(demo.auditor)
    rows = json.loads(body(client.get(url("deployments", "json", "status=approved"))))
    assert len(rows) == DeploymentApproval.objects.filter(status="approved").count() > 0
    assert {r["status"] for r in rows} == {"approved"}


def test_audit_export_needs_the_role_and_names_a_bad_filter(demo, client):
    client.force_login(demo.ml_engineer)
    assert client.get(url("audit", "csv")).status_code == 403
    client.force_login(demo.auditor)
    bad = client.get(url("audit", "csv", "since=yesterday-ish"))
    assert bad.status_code == 400 and "since" in bad.content.decode()
    rows = csv_rows(client.get(url("audit", "csv", "action=transfer.")))
    assert rows and all(r["action"].startswith("transfer.") for r in rows)
    assert len(rows) == AuditEvent.objects.filter(action__startswith="transfer.").count()


def test_unknown_dataset_or_format_is_404(demo, client):
    client.force_login(demo.auditor)
    assert client.get(url("passwords", "csv")).status_code == 404
    assert client.get(url("mechanisms", "xlsx")).status_code == 404


def test_csv_cells_cannot_become_spreadsheet_formulas(demo, client):
    from controlplane.transfers import services

    services.transfer_record_create(
        by=demo.admin,
        source_region=demo.eu_central,
        destination_country=Country.objects.get(code="IN"),
        categories=["user.contact.email"],
        volume=1,
        executed_at=timezone.now() - timedelta(minutes=5),
        exporter_name="=HYPERLINK(\"http://evil\")",
    )
    client.force_login(demo.auditor)
    rows = csv_rows(client.get(url("transfer-log", "csv")))
    assert "'=HYPERLINK(\"http://evil\")" in {r["exporter"] for r in rows}


def test_a_large_log_streams_every_row(demo, client):
    now = timezone.now()
    TransferRecord.objects.bulk_create(
        TransferRecord(
            source_region=demo.eu_central,
            destination_country=demo.us_east.country,
            categories=["user.contact.email"],
            volume=i,
            executed_at=now - timedelta(seconds=i),
            reported_by="test",
        )
        for i in range(3000)
    )
    client.force_login(demo.auditor)
    response = client.get(url("transfer-log", "csv"))
    lines = iter(response.streaming_content)
    assert next(lines).decode().lstrip("\ufeff").startswith("id,executed_at,")
    assert sum(1 for _ in lines) == TransferRecord.objects.count()
