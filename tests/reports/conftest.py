"""Fixtures for reports: the full demo estate (seed_demo) and a private reports folder."""

import re

import pytest
from django.contrib.auth import get_user_model
from pypdf import PdfReader

from regions.models import Region


@pytest.fixture(autouse=True)
def reports_dir(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.REPORTS_DIR = tmp_path / "reports"
    return settings.REPORTS_DIR


@pytest.fixture
def demo(full_demo):
    return full_demo


def pdf_text(path) -> tuple[list[str], PdfReader]:
    """Every page's text, whitespace collapsed (table cells wrap lines anywhere)."""
    reader = PdfReader(path)
    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in reader.pages], reader


def bulk_transfers(n: int, *, regions=None):
    """``n`` active transfers with one executed run each, written in bulk (no services: this
    only feeds reports that read them)."""
    from datetime import timedelta

    from django.utils import timezone

    from controlplane.transfers.models import Mechanism, Party, TransferRecord, TransferRequest
    from regions.models import Country, DataCategory

    now = timezone.now()
    user = get_user_model().objects.order_by("pk").first()
    regions = list(regions or Region.objects.order_by("slug"))
    country = Country.objects.get(code="IN")
    exporter, _ = Party.objects.get_or_create(
        name="Acme Europe GmbH", country=Country.objects.get(code="DE"), defaults={"role": "controller"}
    )
    importer, _ = Party.objects.get_or_create(
        name="Bangalore Labelling Pvt Ltd", country=country, defaults={"role": "processor"}
    )
    mechanism = Mechanism.objects.filter(kind="adequacy").first()
    category = DataCategory.objects.get(key="user.contact.email")
    created = TransferRequest.objects.bulk_create(
        TransferRequest(
            source_region=regions[i % len(regions)],
            destination_country=country,
            exporter=exporter,
            exporter_role="controller",
            importer=importer,
            importer_role="processor",
            data_subjects="customers",
            purpose=f"bulk #{i}",
            frequency="recurring",
            status="active",
            requested_by=user,
            decided_by=user,
            decided_at=now - timedelta(days=1),
            policy_allowed=True,
            policy_basis="adequacy",
            policy_mechanism=mechanism,
        )
        for i in range(n)
    )
    through = TransferRequest.data_categories.through
    through.objects.bulk_create(
        through(transferrequest_id=tr.pk, datacategory_id=category.pk) for tr in created
    )
    TransferRecord.objects.bulk_create(
        TransferRecord(
            request=tr,
            source_region_id=tr.source_region_id,
            destination_country=country,
            categories=["user.contact.email"],
            volume=10,
            executed_at=now - timedelta(hours=1),
            legal_basis="adequacy",
            reported_by="test",
        )
        for tr in created
    )
    return created
