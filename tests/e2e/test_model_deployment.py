"""In a real headless Chromium: an ML engineer asks to deploy a model version to eu-west, the
region's DPO approves it, and the models-by-regions page shows it as the desired version."""

import hashlib

import pytest

from controlplane.modelregistry import services
from regions.models import DataCategory, Jurisdiction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def fraud_version(estate):
    model = services.model_create(
        name="fraud", purpose="Scores payments", owner_team="Risk", by=estate.ml_engineer
    )
    return services.version_register(
        model=model,
        version="2.0.0",
        digest="sha256:" + hashlib.sha256(b"fraud 2.0.0").hexdigest(),
        framework="xgboost 2.1",
        training_mode="regional",
        contains_personal_data=True,
        training_jurisdictions=[Jurisdiction.objects.get(code="EEA")],
        data_categories=[DataCategory.objects.get(key="user.financial")],
        artifacts={estate.eu_west: "abfss://models@euwest.dfs.core.windows.net/fraud/2.0.0"},
        by=estate.ml_engineer,
    )


def eu_west_cell(page):
    return page.locator(
        '[data-testid=models-by-regions] tr[data-model=fraud] td[data-region="eu-west"]'
    )


def test_engineer_requests_dpo_approves_page_shows_desired_version(
    estate, fraud_version, page, login, live_server
):
    # The ML engineer asks for the deployment from the version's page.
    login(page, "ml-engineer", estate.password)
    page.click("nav >> text=Models")
    assert "none desired" in eu_west_cell(page).inner_text()
    page.click("[data-testid=models-by-regions] >> text=fraud")
    page.click("text=2.0.0")
    form = page.locator("[data-testid=request-form]")
    form.locator("select[name=region]").select_option("eu-west")
    form.locator("textarea[name=justification]").fill("Launch in the Netherlands")
    form.locator("button[type=submit]").click()
    assert page.locator("[data-testid=status]").inner_text() == "Requested"
    assert page.locator("[data-testid=verdict]").inner_text() == "allowed"
    assert page.locator('[data-testid=findings] li[data-code="SAME_JURISDICTION"]').count() == 1
    assert page.locator("[data-testid=decision-form]").count() == 0  # four eyes
    page.click("text=Log out")

    # The DPO of eu-west finds it in the queue and approves it.
    login(page, "dpo-eu", estate.password)
    page.goto(f"{live_server.url}/models/deployments/")
    page.locator("[data-testid=queue] a", has_text="DA-").first.click()
    assert "stays in EEA" in page.locator("[data-testid=findings]").inner_text()
    page.fill("textarea[name=note]", "Same jurisdiction; fine.")
    page.click("[data-testid=decision-form] button[value=approve]")
    assert page.locator("[data-testid=status]").inner_text() == "Approved"
    assert page.locator("h1 [data-testid=desired]").inner_text() == "desired"

    # The models-by-regions page now shows 2.0.0 as eu-west's desired version.
    page.click("nav >> text=Models")
    cell = eu_west_cell(page)
    assert cell.locator("[data-testid=desired]").inner_text() == "2.0.0"
    eu_central = page.locator(
        '[data-testid=models-by-regions] tr[data-model=fraud] td[data-region="eu-central"]'
    )
    assert "none desired" in eu_central.inner_text()
