"""In a real headless Chromium: a demo DPO logs in and sees exactly their regions."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dpo_sees_exactly_the_regions_they_may_see(estate, page, login, live_server):
    login(page, "dpo-eu", estate.password)
    page.click("nav >> text=Regions")
    rows = page.locator("[data-testid=region-table] tbody tr[data-region]")
    assert sorted(rows.evaluate_all("rows => rows.map(r => r.dataset.region)")) == [
        "eu-central",
        "eu-west",
    ]
    page.click("text=eu-central")
    assert page.locator("h1").inner_text().startswith("EU Central")
    stores = page.locator("[data-testid=data-stores] tbody tr td:first-child").all_inner_texts()
    assert sorted(stores) == ["customer-db", "event-lake"]
    response = page.goto(f"{live_server.url}/regions/us-east/")
    assert response.status == 404


def test_wrong_password_is_refused_with_a_message(estate, page, live_server):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "dpo-eu")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    assert (
        page.locator("[role=alert]")
        .inner_text()
        .startswith("Your user name and password did not match")
    )
