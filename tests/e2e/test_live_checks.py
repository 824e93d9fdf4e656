"""In a real headless Chromium: forms say what contradicts itself while the person edits, before
anything is submitted, by the same rules as on submit (HTMX posts the form to its check view)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from controlplane.modelregistry import services as model_services
from controlplane.modelregistry.models import ModelVersion
from controlplane.transfers.models import TransferRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def mark_page(page):
    """A marker that a reload or a navigation would wipe: the checks must not submit."""
    page.evaluate("window.stillTheSamePage = true")


def same_page(page) -> bool:
    return page.evaluate("window.stillTheSamePage === true")


def test_the_request_form_flags_contradictions_as_they_are_made(
    estate, parties, page, login, live_server
):
    acme, labeller = parties
    login(page, "requester", estate.password)
    page.goto(f"{live_server.url}/transfers/new/")
    mark_page(page)

    # Exporter equals importer: said next to the importer as soon as it is chosen.
    page.select_option("#id_source_region", str(estate.eu_central.pk))
    page.select_option("#id_exporter", str(acme.pk))
    page.select_option("#id_importer", str(acme.pk))
    error = page.locator("[data-field=importer] [data-testid=error-importer]")
    error.wait_for()
    assert "also the exporter" in error.inner_text()
    # Fields the person has not reached yet are not scolded for being empty.
    assert page.locator("[data-testid=error-purpose]").count() == 0
    assert page.locator("[data-testid=error-destination_country]").count() == 0

    # Put right, the message goes.
    page.select_option("#id_importer", str(labeller.pk))
    page.locator("[data-testid=error-importer]").wait_for(state="detached")

    # A date in the past.
    past = timezone.localdate() - timedelta(days=3)
    page.fill("#id_requested_expiry", past.isoformat())
    expiry = page.locator("[data-field=requested_expiry] [data-testid=error-requested_expiry]")
    expiry.wait_for()
    assert "is in the past" in expiry.inner_text()

    # The same sentences as on submit, and nothing was submitted or saved.
    assert same_page(page) and page.url.endswith("/transfers/new/")
    assert not TransferRequest.objects.exists()
    page.fill("#id_data_subjects", "customers")
    page.fill("#id_purpose", "Label tickets")
    with page.expect_navigation():
        page.click("[data-testid=submit-request]")
    assert not same_page(page)  # a real submit: the server's page, with the same sentence
    assert "is in the past" in page.inner_text("[data-testid=error-requested_expiry]")
    assert not TransferRequest.objects.exists()


def test_the_version_form_flags_categories_without_personal_data_and_two_copies_in_one_region(
    estate, page, login, live_server
):
    model_services.model_create(
        name="churn", purpose="Predicts churn", owner_team="Growth", by=estate.ml_engineer
    )
    login(page, "ml-engineer", estate.password)
    page.goto(f"{live_server.url}/models/churn/versions/new/")
    mark_page(page)

    # Personal data "no" with a personal data category chosen.
    assert not page.is_checked("#id_contains_personal_data")
    picker = page.locator("[data-testid=category-picker]")
    picker.locator("input[value='user.contact.email']").check()
    personal = page.locator(
        "[data-field=contains_personal_data] [data-testid=error-contains_personal_data]"
    )
    personal.wait_for()
    assert "held no personal data" in personal.inner_text()

    # Two artifacts for one region.
    page.fill(
        "#id_artifacts",
        "eu-central s3://models-eu/churn/1.0.0\neu-central s3://models-eu/churn/1.0.0-copy",
    )
    artifacts = page.locator("[data-field=artifacts] [data-testid=error-artifacts]")
    artifacts.wait_for()
    assert "already has an artifact" in artifacts.inner_text()

    # Ticking the box settles the first; nothing was registered, the page never left.
    page.check("#id_contains_personal_data")
    personal.wait_for(state="detached")
    assert page.locator("[data-testid=error-artifacts]").count() == 1
    assert page.locator("[data-testid=error-version]").count() == 0  # not reached yet
    assert same_page(page)
    assert not ModelVersion.objects.filter(model__name="churn").exists()
