"""The Content Security Policy in a real Chromium: pages, HTMX, the API docs and the admin work
with no inline script (the ``page`` fixture fails a test on anything the policy blocks)."""

import pytest

from controlplane.transfers import policy as p
from controlplane.transfers import services
from controlplane.transfers.models import Party, TransferRequest
from controlplane.transfers.services import reference_mechanisms_sync
from regions.models import Country, DataCategory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def draft(estate):
    reference_mechanisms_sync()
    acme = Party.objects.create(
        name="Acme GmbH", country=Country.objects.get(code="DE"), role="controller"
    )
    cloudy = Party.objects.create(
        name="Cloudy Inc", country=Country.objects.get(code="US"), role="processor"
    )
    return services.transfer_request_create(
        by=estate.requester,
        source_region=estate.eu_central,
        destination_country=Country.objects.get(code="US"),
        exporter=acme,
        importer=cloudy,
        data_categories=[DataCategory.objects.get(key="user.contact.email")],
        data_subjects="customers",
        purpose="Support tickets",
        frequency=p.RECURRING,
        submit=False,
    )


def test_deleting_a_draft_asks_first_without_an_inline_handler(
    estate, draft, page, login, live_server
):
    login(page, "requester", estate.password)
    page.goto(f"{live_server.url}/transfers/{draft.pk}/")
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.click("[data-testid=delete-draft]")
    page.wait_for_timeout(300)
    assert questions == ["Delete this draft? This cannot be undone."]
    assert TransferRequest.objects.filter(pk=draft.pk).exists()  # "Cancel" kept it
    page.once("dialog", lambda dialog: answer(dialog, True))
    with page.expect_navigation():
        page.click("[data-testid=delete-draft]")
    assert not TransferRequest.objects.filter(pk=draft.pk).exists()


def test_the_api_docs_the_admin_and_the_main_pages_run_under_the_policy(
    estate, page, login, live_server
):
    login(page, "admin", estate.password)
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title")  # Swagger UI started from its file
    assert "Sovereignty control plane API" in page.inner_text(".swagger-ui .info .title")
    page.goto(f"{live_server.url}/admin/regions/region/")
    page.wait_for_selector("#result_list")
    for path in ["/", "/transfers/", "/audit/", "/agents/", "/metrics/", "/routing/"]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
    # htmx is loaded and running (its attributes are processed, not inert).
    assert page.evaluate("typeof htmx !== 'undefined' && htmx.version.startsWith('2')")
