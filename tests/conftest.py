"""Shared fixtures: the demo estate, people per role, real services, a real browser.

Tests that need PostgreSQL, Redis or Chromium skip with a reason on a newcomer's
machine, and FAIL when REQUIRE_SERVICES=1 (CI), so a missing service can never
turn a red suite green.
"""

import io
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm

from controlplane.permissions import ensure_role_groups

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def pytest_configure(config):
    """One fast password hasher for the whole suite: PBKDF2's many iterations are for
    production, and every test that creates a person would pay them (tests/regions: 76 s -> 12 s)."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def missing_service(reason: str):
    """Fail under REQUIRE_SERVICES=1, otherwise skip with a visible reason."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1: this test must not be skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def postgres(db):
    from django.db import connection

    if connection.vendor != "postgresql":
        missing_service("needs PostgreSQL: set DATABASE_URL=postgres://...")
    return connection


@pytest.fixture
def redis_url(settings):
    import redis

    url = os.environ.get("REDIS_URL")
    if not url:
        missing_service("needs Redis: set REDIS_URL=redis://...")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        missing_service(f"Redis at {url} is unreachable: {error}")
    return url


@pytest.fixture
def reference_data(db):
    """Jurisdictions, countries and categories (migrations load them; transactional tests flush them)."""
    from regions.models import Country, DataCategory, Jurisdiction
    from regions.reference import load_reference_data

    if not Country.objects.exists():
        load_reference_data(Jurisdiction, Country, DataCategory)


def is_transactional(item) -> bool:
    """Does this test commit for real (a live server, a worker, transaction=True)?"""
    marker = item.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server"} & set(item.fixturenames))


class SharedSeed:
    """The outer transaction that holds a module's shared seed; true while it is open."""

    open_seeds: list["SharedSeed"] = []

    def __init__(self, django_db_blocker):
        from django.db import transaction

        self._blocker = django_db_blocker
        with django_db_blocker.unblock():
            self._atomic = transaction.atomic()
            self._atomic.__enter__()
        self.open = True
        SharedSeed.open_seeds.append(self)

    def __bool__(self) -> bool:
        return self.open

    def close(self) -> None:
        """Roll the seed back (idempotent; the innermost seed first)."""
        from django.db import transaction

        while self.open and SharedSeed.open_seeds:
            seed = SharedSeed.open_seeds.pop()
            with seed._blocker.unblock():
                transaction.set_rollback(True)
                seed._atomic.__exit__(None, None, None)
            seed.open = False


@contextmanager
def kept_for_the_module(request, django_db_blocker):
    """Data seeded once and shared by a module's plain tests, like Django's ``setUpTestData``.

    The seed runs inside an outer transaction; each test's own transaction nests in it as a
    savepoint and rolls back to it. The outer one rolls back when the module ends, or as soon
    as a test that commits for real (live server, worker) is about to run: pytest-django runs
    those after every plain test, and they seed per test. Yields the ``SharedSeed``, false
    when there is none.
    """
    if is_transactional(request._pyfuncitem):
        yield None
        return
    seed = SharedSeed(django_db_blocker)
    try:
        yield seed
    finally:
        seed.close()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A committing test never runs inside a module's shared seed."""
    if SharedSeed.open_seeds and is_transactional(item):
        SharedSeed.open_seeds[0].close()


def _seed_estate():
    """The demo estate on the reference data (loaded by the migrations; ``reference_data``
    reloads it after a committing test's flush)."""
    from regions import demo

    demo.seed()


def seeded_once_per_module(seed):
    """A module-scoped fixture that runs ``seed()`` once, shared by the module's plain tests
    (see ``kept_for_the_module``); it yields False for committing tests, which seed per test."""

    @pytest.fixture(scope="module")
    def fixture(request, django_db_setup, django_db_blocker):
        with kept_for_the_module(request, django_db_blocker) as shared:
            if shared:
                with django_db_blocker.unblock():
                    seed()
            yield shared

    return fixture


_module_estate = seeded_once_per_module(_seed_estate)


def _seed_full_demo():
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture(scope="module")
def _module_full_demo(request, django_db_setup, django_db_blocker, tmp_path_factory):
    """seed_demo once per module, with its files (TUF keys, agent configs) in a folder of the
    module's own, kept in the settings while the module runs."""
    from django.test import override_settings

    from controlplane.distribution import keys

    folder = tmp_path_factory.mktemp("demo")
    with override_settings(
        VAR_DIR=folder,
        TUF_KEY_DIR=str(folder / "tuf-keys"),
        TUF_ROOT_KEY_DIR=str(folder / "tuf-root-keys"),
    ):
        keys._cache.clear()
        try:
            with kept_for_the_module(request, django_db_blocker) as shared:
                if shared:
                    with django_db_blocker.unblock():
                        _seed_full_demo()
                yield shared
        finally:
            keys._cache.clear()


@pytest.fixture
def full_demo(_module_full_demo, reference_data):
    """Every app's demo data (``manage.py seed_demo``): people and regions by name."""
    from regions import demo
    from regions.models import Region

    if not _module_full_demo:
        _seed_full_demo()
    people = {u.username.replace("-", "_"): u for u in get_user_model().objects.all()}
    regions = {r.slug.replace("-", "_"): r for r in Region.objects.all()}
    return SimpleNamespace(**people, **regions, password=demo.DEMO_PASSWORD)


@pytest.fixture
def estate(_module_estate, request, reference_data):
    """The demo estate: five regions, their stores, keys, rules and one person per role.

    Seeded once per module for plain tests (each test rolls its changes back), and per test
    for tests that commit. Objects are fetched afresh for every test."""
    from regions import demo
    from regions.models import Region

    if not _module_estate:
        _seed_estate()
    User = get_user_model()
    people = {user.username.replace("-", "_"): user for user in User.objects.all()}
    regions = {region.slug.replace("-", "_"): region for region in Region.objects.all()}
    return SimpleNamespace(**people, **regions, password=demo.DEMO_PASSWORD)


@pytest.fixture
def django_capture_on_commit_callbacks():
    """pytest-django's fixture, with each block acting as its own committed transaction.

    A test's transaction never commits, so work queued after a commit before the block would
    never run; it is forgotten when the block opens, so the block's work (a bundle publish,
    say) cannot join it and vanish. When the block ends its own work leaves the queue, as a
    commit would take it.
    """
    from django.db import connections
    from django.test import TestCase

    @contextmanager
    def capture(*, using="default", execute=False):
        connections[using].run_on_commit.clear()
        with TestCase.captureOnCommitCallbacks(using=using, execute=execute) as callbacks:
            yield callbacks
        connections[using].run_on_commit.clear()

    return capture


@pytest.fixture
def parties(estate):
    """The reference mechanisms, plus Acme GmbH (DE, controller), Bangalore Labelling (IN,
    processor) and SCCs between them: a transfer to India the browser journeys request."""
    from datetime import date, timedelta

    from django.utils import timezone

    from controlplane.transfers import policy as p
    from controlplane.transfers.models import Mechanism, Party
    from controlplane.transfers.services import reference_mechanisms_sync
    from regions.models import Country

    reference_mechanisms_sync()
    acme = Party.objects.create(
        name="Acme GmbH", country=Country.objects.get(code="DE"), role="controller"
    )
    labeller = Party.objects.create(
        name="Bangalore Labelling Pvt Ltd", country=Country.objects.get(code="IN"), role="processor"
    )
    Mechanism.objects.create(
        kind=p.KIND_SCC,
        key="scc-acme-bangalore",
        name="SCCs Acme / Bangalore",
        valid_from=date(2024, 1, 1),
        exporter=acme,
        importer=labeller,
        module=2,
        tia_on=timezone.localdate() - timedelta(days=20),
        tia_outcome=p.TIA_NO_CONCERNS,
    )
    return acme, labeller


@pytest.fixture
def make_user(db):
    """make_user("dpo", view=[region], approve_transfers=[region], ...) -> a fresh user."""
    counter = iter(range(1, 10_000))

    def make(role=None, *, view=(), approve_transfers=(), approve_deployments=(), username=None):
        groups = ensure_role_groups()
        user = get_user_model().objects.create_user(
            username=username or f"{role or 'user'}-{next(counter)}", password="pw-for-tests-only"
        )
        if role:
            user.groups.add(groups[role])
        for region in view:
            assign_perm("regions.view_region", user, region)
        for region in approve_transfers:
            assign_perm("regions.approve_transfers", user, region)
        for region in approve_deployments:
            assign_perm("regions.approve_deployments", user, region)
        return user

    return make


# --- A real browser -------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        missing_service(f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page. Anything the Content Security Policy blocks on it fails the test: every
    browser test also checks that no page needs an inline script (issue 20.4)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    blocked = []
    page.on(
        "console",
        lambda message: blocked.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    yield page
    context.close()
    assert not blocked, f"The Content Security Policy blocked: {blocked}"


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where a browser test saves its screenshots: the test's tmp directory, so a test run leaves
    the working tree alone, or ``SCREENSHOTS_DIR`` (relative to the repository) when set:
    ``make screenshots`` sets docs/screenshots, the committed ones the README shows."""
    chosen = os.environ.get("SCREENSHOTS_DIR")
    directory = Path(__file__).resolve().parents[1] / chosen if chosen else tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture
def login(live_server):
    """login(page, "dpo-eu", password) opens the login page and signs in."""

    def sign_in(page, username, password):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_selector("[data-testid=current-user]")
        return page

    return sign_in


@pytest.fixture
def tuf_repository(db, settings, tmp_path):
    """The control plane's TUF repository in a temporary key directory; yields the trusted
    root metadata (bytes) an agent starts from."""
    from controlplane.distribution import conf, keys, services

    settings.TUF_KEY_DIR = str(tmp_path / "tuf-keys")
    settings.TUF_ROOT_KEY_DIR = str(tmp_path / "tuf-root-keys")
    keys._cache.clear()
    services.repository_init()
    yield conf.trusted_root_file().read_bytes()
    keys._cache.clear()


@pytest.fixture(autouse=True)
def _audit_checkpoint_in_tmp(tmp_path):
    """The nightly verification writes a checkpoint file: never the checkout's var/. (Not the
    ``settings`` fixture: requested by an autouse fixture it would be torn down last, after
    fixtures that still need the settings a test changed, e.g. a cache pointed at a dead Redis.)"""
    from django.test import override_settings

    with override_settings(AUDIT_CHECKPOINT_FILE=str(tmp_path / "audit-checkpoint.json")):
        yield


@pytest.fixture
def tamper(db):
    """``with tamper() as cursor:`` raw SQL on the audit table as its owner would run it, past
    the append-only trigger (PostgreSQL skips user triggers for a replication session): what
    an attacker with the database's keys can do, for tests that prove we find it."""
    from contextlib import contextmanager

    from django.db import connection, transaction

    @contextmanager
    def owner_cursor():
        with transaction.atomic(), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL session_replication_role = replica")
            yield cursor
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")

    return owner_cursor
