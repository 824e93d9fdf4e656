"""Reports rendered on the demo estate and read back with pypdf; who sees and downloads them."""

import hashlib
import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from controlplane.audit.models import AuditEvent
from controlplane.errors import NotAllowed
from controlplane.reports import services
from controlplane.reports.models import Report
from controlplane.transfers.models import Mechanism, TransferRecord, TransferRequest
from regions.models import Region
from tests.reports.conftest import pdf_text

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR_AGO = TODAY - timedelta(days=365)


def generate(kind, by, regions=None, start=YEAR_AGO, end=TODAY) -> Report:
    report = services.report_request(
        kind=kind,
        period_start=start,
        period_end=end,
        regions=regions if regions is not None else Region.objects.all(),
        by=by,
    )
    return services.report_generate(report_id=report.pk)


def check_file(report: Report):
    """The stored sha256, size and page count are the file's; the last page explains the check."""
    assert report.status == "done", report.error
    path = services.file_path(report)
    data = path.read_bytes()
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    assert report.size == len(data)
    pages, reader = pdf_text(path)
    assert report.pages == len(reader.pages)
    assert 3 <= report.pages <= 60
    assert f"page {report.pages} of {report.pages}" in pages[-1]
    assert "How to check this document" in pages[-1]
    assert "sha256sum" in pages[-1]
    event = AuditEvent.objects.get(action="report.generated", object_id=str(report.pk))
    assert event.data["sha256"] == report.sha256
    return pages


def test_record_of_transfers_matches_the_register(demo):
    report = generate("record_of_transfers", demo.admin)
    pages = check_file(report)
    text = " ".join(pages)

    # The demo's approved transfer, its mechanism and its decision are in the record.
    approved = TransferRequest.objects.get(status="active")
    assert f"{approved} Active" in text
    assert approved.policy_mechanism.name in text
    assert "Pseudonymise names before export." in text
    assert "Email" in text  # categories in words, not keys

    # Totals equal the database's counts, counted here independently of the report's queries.
    in_record = (
        TransferRequest.objects.exclude(decided_at=None)
        .exclude(status__in=["rejected", "draft", "submitted"])
        .count()
    )
    executed = TransferRecord.objects.filter(executed_at__date__gte=YEAR_AGO).count()
    violations = TransferRecord.objects.filter(violation=True).count()
    assert (in_record, executed, violations) == (1, 2, 1)  # the demo estate as seeded
    assert (
        f"Transfers in the record: {in_record} · executed transfers: {executed} · "
        f"violations: {violations}"
    ) in text
    violation = TransferRecord.objects.get(violation=True)
    assert f"#{violation.pk}" in text and violation.source_region.slug in text

    # Cover, contents with page numbers, running header on content pages, none on the cover.
    assert "Record of transfers" in pages[0] and "page 1 of" not in pages[0]
    assert "Contents" in pages[1] and "Transfers by source region" in pages[1]
    assert f"page 2 of {report.pages}" in pages[1]
    assert all("Record of transfers · all regions" in page for page in pages[1:])


def test_a_dpo_record_covers_only_their_regions(estate):
    report = generate("record_of_transfers", estate.dpo_uk, regions=[estate.uk_south])
    pages = check_file(report)
    text = " ".join(pages)
    assert "uk-south" in text and "eu-central" not in text
    assert "Transfers in the record: 0" in text


def test_a_dpo_may_not_report_on_another_region(estate):
    with pytest.raises(NotAllowed):
        services.report_request(
            kind="record_of_transfers",
            period_start=YEAR_AGO,
            period_end=TODAY,
            regions=[estate.eu_central],
            by=estate.dpo_uk,
        )
    assert not Report.objects.exists()


def test_mechanism_inventory_lists_mechanisms_dependents_and_timeline(demo):
    report = generate("mechanism_inventory", demo.admin)
    pages = check_file(report)
    text = " ".join(pages)
    squashed = "".join(text.split())  # names wrap anywhere in table cells, even after a hyphen
    for name in Mechanism.objects.filter(status="in_force").values_list("name", flat=True):
        assert "".join(name.split()) in squashed
    assert "Expiry timeline" in text and "review due" in text
    approved = TransferRequest.objects.get(status="active")
    assert f"{approved} (eu-central → IN)" in text


def test_regional_status_names_each_region_and_its_keys(demo):
    report = generate("regional_status", demo.admin)
    text = " ".join(check_file(report))
    for region in Region.objects.all():
        assert f"Region {region.slug}" in text
    assert "Key in the region" in text
    assert "fraud-scoring" in text  # the desired model versions


def test_audit_extract_verifies_the_chain_and_prints_first_and_last_hash(demo):
    report = generate("audit_extract", demo.admin)
    text = " ".join(check_file(report))
    events = AuditEvent.objects.filter(occurred_at__date__gte=YEAR_AGO).order_by("sequence")
    first = events.first()
    # The report's own "requested" event is in the period too; the last hash is the newest one
    # that existed when the extract was read.
    assert "intact" in text
    assert first.previous_hash in text
    requested = AuditEvent.objects.get(action="report.requested", object_id=str(report.pk))
    assert requested.hash in text


def test_audit_extract_reports_a_tampered_event(demo, tamper):
    victim = AuditEvent.objects.order_by("sequence")[3]
    with tamper() as cursor:  # what an attacker with database access could do
        cursor.execute(
            "UPDATE audit_auditevent SET object_repr = %s WHERE id = %s", ["forged", victim.pk]
        )
    report = generate("audit_extract", demo.admin)
    text = " ".join(check_file(report))
    assert f"BROKEN: event #{victim.sequence} does not match its hash" in text


def test_monthly_record_is_made_once_for_last_month(estate):
    first = services.monthly_record_of_transfers(today=date(2026, 3, 14))
    again = services.monthly_record_of_transfers(today=date(2026, 3, 2))
    assert first.pk == again.pk
    assert (first.period_start, first.period_end) == (date(2026, 2, 1), date(2026, 2, 28))
    assert first.requested_by is None and first.scope_label == "all regions"
    assert Report.objects.count() == 1


def test_delete_is_audited_and_removes_the_file(estate, client, django_capture_on_commit_callbacks):
    report = generate("record_of_transfers", estate.dpo_eu, regions=[estate.eu_central])
    path = services.file_path(report)
    assert path.is_file()
    client.force_login(estate.dpo_eu)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:delete", args=[report.pk]))
    assert response.status_code == 302
    assert not Report.objects.filter(pk=report.pk).exists()
    assert not path.exists()
    event = AuditEvent.objects.get(action="report.deleted", object_id=str(report.pk))
    assert event.actor_label == "dpo-eu" and event.data["sha256"] == report.sha256


def test_only_the_requester_or_an_administrator_deletes(estate, client):
    report = generate("record_of_transfers", estate.dpo_eu, regions=[estate.eu_central])
    client.force_login(estate.auditor)
    assert client.post(reverse("reports:delete", args=[report.pk])).status_code == 403
    assert Report.objects.filter(pk=report.pk).exists()
    assert not AuditEvent.objects.filter(action="report.deleted").exists()


def test_a_dpo_sees_only_reports_within_their_regions(estate, client):
    eu = generate("regional_status", estate.dpo_eu, regions=[estate.eu_central, estate.eu_west])
    everywhere = generate("regional_status", estate.admin)
    uk = generate("regional_status", estate.dpo_uk, regions=[estate.uk_south])

    client.force_login(estate.dpo_eu)
    page = client.get(reverse("reports:index")).content.decode()
    assert str(eu.pk) in page and str(everywhere.pk) not in page and str(uk.pk) not in page
    assert client.get(reverse("reports:download", args=[uk.pk])).status_code == 404
    assert client.get(reverse("reports:download", args=[everywhere.pk])).status_code == 404
    response = client.get(reverse("reports:download", args=[eu.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == eu.sha256

    client.force_login(estate.auditor)  # auditors read every report
    page = client.get(reverse("reports:index")).content.decode()
    assert all(str(r.pk) in page for r in (eu, everywhere, uk))
    assert client.get(reverse("reports:download", args=[uk.pk])).status_code == 200


@pytest.mark.parametrize("username", ["ml_engineer", "requester"])
def test_download_needs_the_auditor_or_dpo_role(estate, client, username):
    report = generate("regional_status", estate.admin)
    client.force_login(getattr(estate, username))
    assert client.get(reverse("reports:download", args=[report.pk])).status_code == 403


def test_asking_for_a_report_queues_the_task_on_commit(estate, client, django_capture_on_commit_callbacks, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client.force_login(estate.dpo_eu)
    form = {
        "kind": "mechanism_inventory",
        "period_start": YEAR_AGO.isoformat(),
        "period_end": TODAY.isoformat(),
        "regions": [estate.eu_central.pk],
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("reports:index"), form)
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.status == "queued" and len(callbacks) == 1
    assert AuditEvent.objects.filter(action="report.requested", object_id=str(report.pk)).exists()


def test_bad_input_names_the_field_and_changes_nothing(estate, client):
    client.force_login(estate.dpo_eu)
    response = client.post(
        reverse("reports:index"),
        {"kind": "record_of_transfers", "period_start": "2026-05-01", "period_end": "2026-04-01",
         "regions": [estate.uk_south.pk]},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "period_end" in body and "regions" in body
    assert not Report.objects.exists()


def test_the_list_runs_a_fixed_number_of_queries(estate, client, django_assert_max_num_queries):
    client.force_login(estate.auditor)
    generate("regional_status", estate.admin)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("reports:index"))
    for _ in range(4):
        generate("regional_status", estate.admin)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("reports:index"))


def test_a_dpo_audit_extract_holds_only_their_regions_events(demo):
    report = generate("audit_extract", demo.dpo_uk, regions=[demo.uk_south])
    text = " ".join(check_file(report))
    uk = AuditEvent.objects.filter(region="uk-south").exclude(object_repr="")
    eu = AuditEvent.objects.filter(region="eu-central", object_repr__startswith="eu-central/")
    assert uk.exists() and eu.exists()
    assert all(e.object_repr in text for e in uk.filter(action__in=["region.created"]))
    assert not any(e.object_repr in text for e in eu)
    # The chain is still verified over every event of the period, in every region.
    requested = AuditEvent.objects.get(action="report.requested", object_id=str(report.pk))
    every = AuditEvent.objects.filter(sequence__lte=requested.sequence).count()
    assert f"{every} (of {every} in the period)" in text and "intact" in text


def test_report_events_are_scoped_like_the_report(estate, client):
    own = generate("regional_status", estate.dpo_uk, regions=[estate.uk_south])
    wide = generate("regional_status", estate.admin)
    events = AuditEvent.objects.filter(action="report.generated")
    assert events.get(object_id=str(own.pk)).region == "uk-south"
    assert events.get(object_id=str(wide.pk)).region == ""
    client.force_login(estate.dpo_uk)
    response = client.get(reverse("reports:export", args=["audit", "json"]) + "?action=report.")
    seen = json.loads(b"".join(response.streaming_content))
    generated = {e["object_id"]: e["data"]["sha256"] for e in seen if e["action"] == "report.generated"}
    assert generated == {str(own.pk): own.sha256}
