"""The reports API: ask for a report, list and read them, download the PDF, delete one, with
the pages' permissions and scope (the same selector and FilterSet as the Reports page)."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from controlplane.audit.models import AuditEvent
from controlplane.reports import services
from controlplane.reports.models import Report
from regions.models import Region

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR_AGO = TODAY - timedelta(days=365)
LIST = "/api/v1/reports/"


def generate(kind, by, regions=None) -> Report:
    report = services.report_request(
        kind=kind,
        period_start=YEAR_AGO,
        period_end=TODAY,
        regions=regions if regions is not None else Region.objects.all(),
        by=by,
    )
    return services.report_generate(report_id=report.pk)


def ask(client, **overrides):
    body = {
        "kind": "mechanism_inventory",
        "period_start": YEAR_AGO.isoformat(),
        "period_end": TODAY.isoformat(),
        "regions": ["eu-central"],
        **overrides,
    }
    return client.post(LIST, body, content_type="application/json")


def test_a_dpo_asks_for_a_report_and_it_is_queued_on_commit(
    estate, client, django_capture_on_commit_callbacks
):
    client.force_login(estate.dpo_eu)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = ask(client)
    assert response.status_code == 202, response.content
    body = response.json()
    report = Report.objects.get()
    assert body["id"] == str(report.pk) and body["status"] == "queued"
    assert body["regions"] == ["eu-central"] and body["requested_by"] == "dpo-eu"
    assert body["download"] is None
    assert response["Location"].endswith(f"/api/v1/reports/{report.pk}/")
    assert len(callbacks) == 1  # the Celery task, after the commit
    assert AuditEvent.objects.filter(action="report.requested", object_id=str(report.pk)).exists()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"kind": "everything"}, "kind"),
        ({"period_end": (YEAR_AGO - timedelta(days=1)).isoformat()}, "period_end"),
        ({"period_start": "yesterday"}, "period_start"),
        ({"regions": []}, "regions"),
        ({"regions": ["atlantis"]}, "regions"),
        ({"regions": ["uk-south"]}, "regions"),  # not theirs: as unknown as a made-up one
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(estate, client, overrides, field):
    client.force_login(estate.dpo_eu)
    response = ask(client, **overrides)
    assert response.status_code == 400 and field in response.json(), response.content
    assert not Report.objects.exists()
    assert not AuditEvent.objects.filter(action="report.requested").exists()


def test_a_period_over_three_years_is_refused(estate, client):
    client.force_login(estate.dpo_eu)
    response = ask(client, period_start=(TODAY - timedelta(days=4 * 365)).isoformat())
    assert response.status_code == 400 and not Report.objects.exists()


@pytest.mark.parametrize("username", ["auditor", "requester", "ml_engineer"])
def test_only_dpos_and_administrators_ask_for_reports(estate, client, username):
    client.force_login(getattr(estate, username))
    assert ask(client).status_code == 403
    assert not Report.objects.exists()


def test_the_list_is_the_pages_list_scoped_to_the_persons_regions(estate, client):
    eu = generate("regional_status", estate.dpo_eu, regions=[estate.eu_central, estate.eu_west])
    everywhere = generate("regional_status", estate.admin)
    uk = generate("regional_status", estate.dpo_uk, regions=[estate.uk_south])

    client.force_login(estate.dpo_eu)
    listed = client.get(LIST).json()
    assert [r["id"] for r in listed["results"]] == [str(eu.pk)]
    assert listed["results"][0]["sha256"] == eu.sha256
    for other in (everywhere, uk):
        assert client.get(f"{LIST}{other.pk}/").status_code == 404
        assert client.get(f"{LIST}{other.pk}/download").status_code == 404

    client.force_login(estate.auditor)  # auditors read every report
    ids = {r["id"] for r in client.get(LIST).json()["results"]}
    assert ids == {str(eu.pk), str(everywhere.pk), str(uk.pk)}


def test_the_list_filters_like_the_page(estate, client):
    generate("regional_status", estate.admin)
    mechanisms = generate("mechanism_inventory", estate.admin)
    client.force_login(estate.auditor)
    listed = client.get(LIST, {"kind": "mechanism_inventory"}).json()["results"]
    assert [r["id"] for r in listed] == [str(mechanisms.pk)]
    page = client.get("/reports/", {"kind": "mechanism_inventory"}).content.decode()
    assert str(mechanisms.pk) in page and page.count('data-report="') == 1
    bad = client.get(LIST, {"status": "lost"})
    assert bad.status_code == 400 and "status" in bad.json()["filters"]
    assert client.get("/reports/", {"status": "lost"}).status_code == 400


def test_the_download_is_the_file_whose_hash_the_audit_trail_holds(estate, client):
    report = generate("regional_status", estate.dpo_eu, regions=[estate.eu_central])
    client.force_login(estate.dpo_eu)
    detail = client.get(f"{LIST}{report.pk}/").json()
    assert detail["status"] == "done" and detail["pages"] == report.pages
    response = client.get(detail["download"], HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content)
    assert hashlib.sha256(data).hexdigest() == report.sha256 == response["X-Content-SHA256"]
    event = AuditEvent.objects.get(action="report.generated", object_id=str(report.pk))
    assert event.data["sha256"] == report.sha256


@pytest.mark.parametrize("username", ["ml_engineer", "requester"])
def test_download_needs_the_auditor_or_dpo_role(estate, client, username):
    report = generate("regional_status", estate.admin)
    client.force_login(getattr(estate, username))
    assert client.get(f"{LIST}{report.pk}/download").status_code == 403


def test_a_report_without_its_file_yet_is_a_409_not_ready(estate, client):
    client.force_login(estate.dpo_eu)
    report = Report.objects.get(pk=ask(client).json()["id"])
    response = client.get(f"{LIST}{report.pk}/download", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 409 and response.json()["code"] == "not_ready"


def test_delete_is_the_requesters_or_an_administrators_and_is_audited(
    estate, client, django_capture_on_commit_callbacks
):
    report = generate("regional_status", estate.dpo_eu, regions=[estate.eu_central])
    path = services.file_path(report)
    for username in ("dpo_eu_2", "auditor"):
        client.force_login(getattr(estate, username))
        assert client.delete(f"{LIST}{report.pk}/").status_code == 403
    assert Report.objects.filter(pk=report.pk).exists() and path.is_file()
    client.force_login(estate.dpo_eu)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"{LIST}{report.pk}/").status_code == 204
    assert not Report.objects.filter(pk=report.pk).exists() and not path.exists()
    event = AuditEvent.objects.get(action="report.deleted", object_id=str(report.pk))
    assert event.data["sha256"] == report.sha256


def test_the_list_runs_a_fixed_number_of_queries(estate, client, django_assert_max_num_queries):
    client.force_login(estate.auditor)
    generate("regional_status", estate.admin)
    with django_assert_max_num_queries(20) as few:
        client.get(LIST)
    for _ in range(4):
        generate("regional_status", estate.admin)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(LIST).json()["results"]) == 5
