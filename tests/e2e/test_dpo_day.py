"""A DPO's working day in a real headless Chromium: lists, the category picker, form errors,
a withdrawal, a notice with its e-mail, accessibility (axe-core) and screenshots (in the test's
tmp directory; ``make screenshots`` writes the README's, in docs/screenshots)."""

import json
from pathlib import Path

import pytest
from django.core import mail

from controlplane.notifications.models import EmailMode, Preference
from controlplane.transfers import policy as p
from controlplane.transfers import services
from controlplane.transfers.models import Mechanism, TransferRequest
from regions.models import Country, DataCategory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def eager_celery():
    from controlplane.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _request(estate, acme, labeller, purpose="Label support tickets", submit=True):
    return services.transfer_request_create(
        by=estate.requester,
        source_region=estate.eu_central,
        destination_country=Country.objects.get(code="IN"),
        exporter=acme,
        importer=labeller,
        data_categories=[DataCategory.objects.get(key="user.contact.email")],
        data_subjects="customers",
        purpose=purpose,
        frequency=p.RECURRING,
        submit=submit,
    )


def _rows(page, marker):
    return page.eval_on_selector_all(
        f"[{marker}]", f"els => els.map(e => e.getAttribute('{marker}'))"
    )


def test_search_and_sort_a_list_and_the_api_answers_the_same_rows(
    estate, parties, page, login, live_server
):
    acme, labeller = parties
    for n in range(3):
        _request(estate, acme, labeller, purpose=f"Tickets batch {n}")
    login(page, "auditor", estate.password)

    # Search the mechanisms register by country name, then by decision number.
    page.goto(f"{live_server.url}/transfers/mechanisms/")
    page.fill("#id_q", "Japan")
    page.click("[data-testid=list-filters] button[type=submit]")
    japan = _rows(page, "data-mechanism")
    to_japan = set(Mechanism.objects.filter(to_country__code="JP").values_list("key", flat=True))
    assert to_japan and to_japan <= set(japan)
    assert "q=Japan" in page.url

    # Sort the queue by a column header; a second click reverses it.
    page.goto(f"{live_server.url}/transfers/?status=all")
    page.click("th a[data-sort=submitted]")
    assert page.get_attribute("th:has(a[data-sort=submitted])", "aria-sort") == "ascending"
    ascending = _rows(page, "data-request")
    page.click("th a[data-sort=submitted]")
    assert page.get_attribute("th:has(a[data-sort=submitted])", "aria-sort") == "descending"
    assert _rows(page, "data-request") == list(reversed(ascending))

    # The page and the API with the same parameters list the same rows.
    query = "?status=all&q=batch&ordering=-submitted"
    page.goto(f"{live_server.url}/transfers/{query}")
    on_page = _rows(page, "data-request")
    api = page.evaluate(
        "async (url) => (await (await fetch(url)).json()).results.map(r => String(r.id))",
        f"/api/v1/transfers/requests/{query}",
    )
    assert len(on_page) == 3 and on_page == api

    # A bad value: a sentence naming the filter, in the page and in the API.
    page.goto(f"{live_server.url}/transfers/?status=perhaps")
    assert "(status)" in page.inner_text("[data-testid=filter-error]")


@pytest.mark.screenshots
def test_category_picker_and_a_form_error_that_keeps_the_input(
    estate, parties, page, login, live_server, screenshots
):
    acme, labeller = parties
    login(page, "requester", estate.password)
    page.goto(f"{live_server.url}/transfers/new/")
    picker = page.locator("[data-testid=category-picker]")
    picker.locator("[data-picker-search]").fill("health")
    visible = picker.locator("[data-picker-item]:visible")
    assert visible.count() >= 1
    assert all("health" in t.lower() for t in visible.all_inner_texts())
    health = picker.locator("input[value='user.health_and_medical']")
    health.check()
    assert (
        "Art. 9" in picker.locator("label:has(input[value='user.health_and_medical'])").inner_text()
    )
    assert "special (Art. 9/10)" in picker.locator("[data-picker-chosen]").inner_text()
    picker.locator("[data-picker-search]").fill("")

    # A contradiction: the importer is the exporter. The error sits next to the field, once,
    # and what was typed stays.
    page.select_option("#id_source_region", str(estate.eu_central.pk))
    page.select_option("#id_destination_country", "IN")
    page.select_option("#id_exporter", str(acme.pk))
    page.select_option("#id_importer", str(acme.pk))
    page.fill("#id_data_subjects", "patients")
    page.fill("#id_purpose", "Second opinion on scans")
    page.select_option("#id_frequency", "recurring")
    page.click("[data-testid=submit-request]")
    errors = page.locator("[data-testid=error-importer]")
    assert errors.count() == 1 and "also the exporter" in errors.inner_text()
    assert page.locator("[data-field=importer] [data-testid=error-importer]").count() == 1
    assert page.input_value("#id_purpose") == "Second opinion on scans"
    assert page.is_checked("input[value='user.health_and_medical']")
    assert not TransferRequest.objects.exists()
    page.screenshot(path=str(screenshots / "request-form.png"), full_page=True)


def test_requester_withdraws_a_submitted_request(estate, parties, page, login, live_server):
    tr = _request(estate, *parties)
    login(page, "requester", estate.password)
    page.goto(f"{live_server.url}/transfers/{tr.pk}/")
    page.fill("#withdraw-reason", "Handled in the EU after all")
    page.click("[data-testid=withdraw]")
    page.wait_for_selector(".messages .success")
    tr.refresh_from_db()
    assert tr.status == "withdrawn"
    assert "Withdrawn by the requester" in page.inner_text("main")


@pytest.mark.screenshots
def test_a_notice_appears_for_the_dpo_with_its_email(
    estate, parties, page, login, live_server, eager_celery, screenshots
):
    acme, labeller = parties
    Preference.objects.create(user=estate.dpo_eu, email=EmailMode.IMMEDIATE)
    mail.outbox.clear()
    login(page, "requester", estate.password)
    page.goto(f"{live_server.url}/transfers/new/")
    page.select_option("#id_source_region", str(estate.eu_central.pk))
    page.select_option("#id_destination_country", "IN")
    page.select_option("#id_exporter", str(acme.pk))
    page.select_option("#id_importer", str(labeller.pk))
    page.check("input[value='user.contact.email']")
    page.fill("#id_data_subjects", "customers")
    page.fill("#id_purpose", "Label support tickets for triage")
    page.select_option("#id_frequency", "recurring")
    page.click("[data-testid=submit-request]")
    page.wait_for_selector(".messages .success")
    tr = TransferRequest.objects.get()

    page.context.clear_cookies()
    login(page, "dpo-eu", estate.password)
    assert page.inner_text("[data-testid=unread-count]") == "1"
    page.click("[data-testid=inbox-link]")
    row = page.locator("[data-notice]").first
    assert str(tr) in row.inner_text()
    page.screenshot(path=str(screenshots / "inbox.png"), full_page=True)
    [message] = [m for m in mail.outbox if m.to == [estate.dpo_eu.email]]
    assert str(tr) in message.subject and f"/transfers/{tr.pk}/" in message.body
    row.locator("[data-testid=open-notice]").click()
    assert page.url.endswith(f"/transfers/{tr.pk}/")
    assert page.locator("[data-testid=unread-count]").count() == 0

    page.goto(f"{live_server.url}/transfers/")
    page.screenshot(path=str(screenshots / "queue.png"), full_page=True)


MAIN_PAGES = [
    ("dpo-eu", "/"),
    ("dpo-eu", "/transfers/"),
    ("dpo-eu", "/transfers/mechanisms/?q=japan"),
    ("dpo-eu", "/transfers/records/"),
    ("dpo-eu", "/inbox/"),
    ("dpo-eu", "/audit/"),
    ("requester", "/"),
    ("requester", "/transfers/new/"),
    ("requester", "/transfers/mine/"),
    ("ml-engineer", "/models/"),
    ("ml-engineer", "/models/deployments/"),
    ("auditor", "/agents/"),
    ("auditor", "/regions/"),
    ("auditor", "/routing/?q=japan"),
    ("auditor", "/routing/endpoints/"),
    ("auditor", "/no-such-page/"),
]


def test_main_pages_have_no_serious_accessibility_violations(
    estate, parties, page, login, live_server
):
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci --prefix tests/e2e` (make install)")
    _request(estate, *parties)
    axe = AXE.read_text()
    found = {}
    signed_in = None
    for who, path in MAIN_PAGES:
        if who != signed_in:
            page.context.clear_cookies()
            login(page, who, estate.password)
            signed_in = who
        page.goto(f"{live_server.url}{path}")
        # Evaluated through the DevTools protocol: an inline <script> tag would be (rightly)
        # refused by the Content Security Policy.
        page.evaluate(axe + "\n;undefined")
        result = page.evaluate(
            """async () => {
                const r = await axe.run(document, {resultTypes: ['violations']});
                return r.violations.filter(v => ['serious', 'critical'].includes(v.impact))
                    .map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target)}));
            }"""
        )
        if result:
            found[f"{who} {path}"] = result
    assert not found, json.dumps(found, indent=1)
