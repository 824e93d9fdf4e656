"""Fixtures for reports: the full demo estate (seed_demo) and a private reports folder."""

import io
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from pypdf import PdfReader

from regions.models import Region


@pytest.fixture(autouse=True)
def reports_dir(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.REPORTS_DIR = tmp_path / "reports"
    return settings.REPORTS_DIR


@pytest.fixture
def demo(db, reference_data):
    call_command("seed_demo", stdout=io.StringIO())
    users = {u.username.replace("-", "_"): u for u in get_user_model().objects.all()}
    regions = {r.slug.replace("-", "_"): r for r in Region.objects.all()}
    return SimpleNamespace(**users, **regions, password="sovereign-demo")


def pdf_text(path) -> tuple[list[str], PdfReader]:
    """Every page's text, whitespace collapsed (table cells wrap lines anywhere)."""
    reader = PdfReader(path)
    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in reader.pages], reader
