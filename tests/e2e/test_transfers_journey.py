"""In a real headless Chromium: a requester submits a transfer, a DPO finds it, reads, approves."""

import pytest

from controlplane.transfers.models import Party, TransferRequest
from regions.models import Country

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def post_from_page(page, path):
    """POST with the page's CSRF token, as a hand-made form would; returns (status, text)."""
    return page.evaluate(
        """async (path) => {
            const token = document.querySelector('[name=csrfmiddlewaretoken]').value;
            const r = await fetch(path, {method: 'POST', headers: {'X-CSRFToken': token},
                                         body: new URLSearchParams({conditions: 'mine'})});
            return [r.status, await r.text()];
        }""",
        path,
    )


def test_requester_submits_and_a_dpo_approves(estate, parties, browser, page, login, live_server):
    acme, labeller = parties

    # 1. The requester fills in the form and submits it to the DPO.
    login(page, "requester", estate.password)
    page.goto(f"{live_server.url}/transfers/new/")
    page.select_option("#id_source_region", str(estate.eu_central.pk))
    page.select_option("#id_destination_country", "IN")
    page.select_option("#id_exporter", str(acme.pk))
    page.select_option("#id_exporter_role", "controller")
    page.select_option("#id_importer", str(labeller.pk))
    page.select_option("#id_importer_role", "processor")
    page.check("input[name=data_categories][value='user.contact.email']")
    page.check("input[name=data_categories][value='user.name']")
    page.fill("#id_data_subjects", "customers")
    page.fill("#id_purpose", "Label support tickets for the triage model")
    page.select_option("#id_frequency", "recurring")
    page.click("[data-testid=submit-request]")
    assert page.locator("[data-testid=request-status]").inner_text() == "Submitted"
    tr = TransferRequest.objects.get()
    assert page.url.endswith(f"/transfers/{tr.pk}/")

    # The requester follows it but cannot approve their own request.
    assert page.locator("[data-testid=approve]").count() == 0
    status, text = post_from_page(page, f"/transfers/{tr.pk}/approve/")
    assert (
        status == 403 and "CSRF verification failed" not in text
    )  # refused as a right, not as a forged form
    assert "decides" in text or "DPO" in text  # the styled 403 names the missing right
    page.goto(f"{live_server.url}/transfers/mine/")
    assert page.locator(f"[data-testid=my-requests] tr[data-request='{tr.pk}']").count() == 1

    # 2. The DPO of eu-central finds it in the queue.
    dpo_context = browser.new_context()
    dpo = dpo_context.new_page()
    dpo.set_default_timeout(10_000)
    login(dpo, "dpo-eu", estate.password)
    dpo.click("nav >> text=Transfers")
    row = dpo.locator(f"[data-testid=queue-table] tr[data-request='{tr.pk}']")
    assert "eu-central" in row.inner_text()
    row.locator("a").first.click()

    # 3. The DPO reads the engine's findings.
    assert "Approval possible" in dpo.locator("[data-testid=verdict]").inner_text()
    codes = dpo.locator("[data-testid=findings] li").evaluate_all(
        "items => items.map(li => li.dataset.code)"
    )
    assert "SCC_IN_FORCE" in codes and "TIA_CURRENT" in codes
    assert "module 2" in dpo.locator("[data-code=SCC_IN_FORCE]").inner_text()

    # 4. And approves with a condition.
    dpo.fill("#id_conditions", "Pseudonymise names before export.")
    dpo.click("[data-testid=approve]")
    assert dpo.locator("[data-testid=request-status]").inner_text() == "Approved"
    assert "dpo-eu" in dpo.locator("[data-testid=decided-by]").inner_text()
    dpo_context.close()

    tr.refresh_from_db()
    assert tr.status == "approved" and tr.decided_by.username == "dpo-eu"
    assert tr.conditions == "Pseudonymise names before export."

    # The requester sees the decision.
    page.goto(f"{live_server.url}/transfers/{tr.pk}/")
    assert page.locator("[data-testid=request-status]").inner_text() == "Approved"


def test_the_form_asks_only_what_applies_and_the_dpo_confirms_conditions(
    estate, parties, browser, page, login, live_server
):
    """Issue 17: plain-language questions hidden where they do not apply; the approval form
    shows the engine's conditions as checkboxes, and approving without them is refused."""
    acme, _ = parties
    sakura = Party.objects.create(
        name="Sakura KK", country=Country.objects.get(code="JP"), role="processor"
    )
    login(page, "requester", estate.password)
    page.goto(f"{live_server.url}/transfers/new/")
    appi = page.locator("#id_importer__appi_business_operator")
    dpf = page.locator("#id_importer__EU-US-DPF")
    art9 = page.locator("#id_art9_condition")
    page.select_option("#id_source_region", str(estate.eu_central.pk))
    page.select_option("#id_exporter", str(acme.pk))
    page.select_option("#id_importer", str(sakura.pk))
    assert appi.is_visible() and not dpf.is_visible() and not art9.is_visible()
    page.check("input[name=data_categories][value='user.contact.email']")
    page.check("input[name=data_categories][value='user.health_and_medical']")
    assert art9.is_visible()
    page.uncheck("input[name=data_categories][value='user.health_and_medical']")
    assert not art9.is_visible()
    page.select_option("#id_destination_country", "JP")
    page.select_option("#id_importer_role", "processor")
    page.fill("#id_data_subjects", "customers")
    page.fill("#id_purpose", "Customer support in Tokyo")
    page.select_option("#id_frequency", "recurring")
    page.click("[data-testid=submit-request]")  # the APPI question left at "Not known"
    tr = TransferRequest.objects.get(importer=sakura)

    dpo_context = browser.new_context()
    dpo = dpo_context.new_page()
    dpo.set_default_timeout(10_000)
    login(dpo, "dpo-eu", estate.password)
    dpo.goto(f"{live_server.url}/transfers/{tr.pk}/")
    box = dpo.locator("[data-testid=conditions] input[data-code=ADEQUACY_SCOPE_UNCONFIRMED]")
    assert box.count() == 1
    dpo.click("[data-testid=approve]")
    assert "confirm every condition" in dpo.content()
    assert dpo.locator("[data-testid=request-status]").inner_text() == "Submitted"
    dpo.locator("[data-testid=conditions] input[data-code=ADEQUACY_SCOPE_UNCONFIRMED]").check()
    dpo.click("[data-testid=approve]")
    assert dpo.locator("[data-testid=request-status]").inner_text() == "Approved"
    assert (
        "ADEQUACY_SCOPE_UNCONFIRMED"
        in dpo.locator("[data-testid=confirmed-conditions]").inner_text()
    )
    dpo_context.close()
