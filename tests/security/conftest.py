"""One estate for the authorization matrix and the API fuzzing, built once for the package.

Building the demo estate (every app's demo data, the TUF repository, two agents) takes seconds;
the matrix makes thousands of calls against it and the fuzzing hundreds more, so it is built
once inside a transaction that is rolled back when the package's tests are done. Each call the
tests make runs in a savepoint that is rolled back too, so no call sees another's writes.

Region A is ``eu-central``, region B is ``us-east``. Region A's people (``requester-a``,
``ml-engineer-a``, made here, and the demo's ``dpo-eu``) and agent may see ``eu-central`` and
``eu-west`` only; region B's DPO (``dpo-us``) and agent see ``us-east`` and ``ap-northeast``.
"""

import json
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from guardian.shortcuts import assign_perm

A, B = "eu-central", "us-east"
# Who sees what in the matrix: the regions each side's people may view.
SIDE_REGIONS = {"A": {"eu-central", "eu-west"}, "B": {"us-east", "ap-northeast"}}


def reset_caches():
    """Caches that outlive a rolled-back call (agent tokens, TUF heads) start empty again."""
    from controlplane.distribution import cache as shared_cache
    from controlplane.distribution import keys
    from controlplane.distribution import services as distribution

    cache.clear()
    distribution._memo.clear()
    shared_cache.reset()
    del keys  # the key cache stays: the key files do not change


@pytest.fixture(scope="package")
def security_estate(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo estate plus what the matrix needs in both regions; rolled back at the end."""
    from controlplane.distribution import keys

    var = tmp_path_factory.mktemp("security-var")
    overrides = override_settings(
        TUF_KEY_DIR=str(var / "keys"),
        TUF_ROOT_KEY_DIR=str(var / "root-keys"),
        VAR_DIR=var,
        REPORTS_DIR=var / "reports",
        BUNDLE_PUSH_ENABLED=False,
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    )
    overrides.enable()
    keys._cache.clear()
    reset_caches()
    try:
        with django_db_blocker.unblock(), transaction.atomic():
            estate = _build(var)
            yield estate
            transaction.set_rollback(True)
    finally:
        overrides.disable()
        keys._cache.clear()
        reset_caches()


def _build(var) -> SimpleNamespace:
    from importlib import import_module

    from django.apps import apps
    from django.utils.module_loading import module_has_submodule

    from controlplane.distribution.demo import DEMO_AGENTS
    from controlplane.metrics import services as metrics_services
    from controlplane.modelregistry import services as registry
    from controlplane.modelregistry.models import DeploymentApproval, ModelVersion
    from controlplane.notifications.models import Notice
    from controlplane.permissions import Role, ensure_role_groups
    from controlplane.reports.models import Report, ReportStatus
    from controlplane.transfers import policy as tp
    from controlplane.transfers import services as transfers
    from controlplane.transfers.models import Mechanism, Party
    from regions.models import Agent, Country, DataCategory, Region

    for app in apps.get_app_configs():  # what `manage.py seed_demo` does
        if module_has_submodule(app.module, "demo"):
            import_module(f"{app.name}.demo").seed()

    User = get_user_model()
    regions = {r.slug: r for r in Region.objects.all()}
    groups = ensure_role_groups()

    def person(username, role, viewable):
        user = User.objects.create_user(username=username, password="unused-password-x")
        user.groups.add(groups[role])
        for slug in viewable:
            assign_perm("regions.view_region", user, regions[slug])
        return user

    # Fresh people for region A (the demo's requester and ML engineer have rights in B and
    # requests there), and a requester in region B, so B has requests of its own.
    person("requester-a", Role.REQUESTER, sorted(SIDE_REGIONS["A"]))
    person("ml-engineer-a", Role.ML_ENGINEER, sorted(SIDE_REGIONS["A"]))
    requester_b = person("requester-b", Role.REQUESTER, [B])
    people = {u.username: u for u in User.objects.all()}

    parties = {p.name: p for p in Party.objects.all()}
    email = list(DataCategory.objects.filter(key__in=["user.contact.email"]))

    def request(by, source, *, purpose, submit, destination_country="IN", **facts):
        return transfers.transfer_request_create(
            by=by,
            source_region=regions[source],
            destination_country=Country.objects.get(code=destination_country),
            exporter=parties["Acme Europe GmbH" if source == A else "Acme Inc"],
            importer=parties["Bangalore Labelling Pvt Ltd"],
            data_categories=email,
            data_subjects="customers",
            purpose=purpose,
            frequency=tp.RECURRING,
            submit=submit,
            **facts,
        )

    requests = SimpleNamespace(
        a_draft=request(
            people["requester-a"], A, purpose="Matrix A: the requester's draft", submit=False
        ),
        a_submitted=request(
            people["requester-a"], A, purpose="Matrix A: labelling in Bangalore", submit=True
        ),
        b_draft=request(requester_b, B, purpose="Matrix B: a draft in us-east", submit=False),
        b_submitted=request(
            requester_b, B, purpose="Matrix B: offshore labelling from us-east", submit=True
        ),
    )
    records = SimpleNamespace(
        a=transfers.transfer_record_create(
            by=None,
            source_region=regions[A],
            destination_country=Country.objects.get(code="IN"),
            categories=["user.contact.email"],
            volume=10,
            executed_at=datetime.now(UTC) - timedelta(hours=2),
            exporter_name="Matrix A exporter GmbH",
            idempotency_key="matrix-a-record-key",
        ),
        b=transfers.transfer_record_create(
            by=None,
            source_region=regions[B],
            destination_country=Country.objects.get(code="IN"),
            categories=["user.contact.email"],
            volume=20,
            executed_at=datetime.now(UTC) - timedelta(hours=2),
            exporter_name="Matrix B exporter Inc",
            idempotency_key="matrix-b-record-key",
        ),
    )

    base = ModelVersion.objects.get(model__name="support-intent", version="0.9.0-synthetic")
    deployments = SimpleNamespace(
        a=registry.deployment_request(
            version=base,
            region=regions[A],
            by=people["ml-engineer-a"],
            justification="Matrix A: synthetic intent model for eu-central.",
        ),
        b=DeploymentApproval.objects.filter(region=regions[B]).order_by("pk")[0],
    )

    def report(slug, label):
        r = Report.objects.create(
            kind="mechanism_inventory",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 1, 31),
            scope_label=label,
            status=ReportStatus.DONE,
            requested_by=people["admin"],
            file=f"matrix-{slug}.pdf",
            sha256="0" * 64,
        )
        r.regions.set([regions[slug]])
        (var / "reports").mkdir(parents=True, exist_ok=True)
        (var / "reports" / f"matrix-{slug}.pdf").write_bytes(b"%PDF-1.4 matrix\n")
        return r

    reports = SimpleNamespace(a=report(A, "Matrix A scope"), b=report(B, "Matrix B scope"))

    agents = {}
    tokens = {}
    for slug, name, token in DEMO_AGENTS:
        agents[slug] = Agent.objects.get(region=regions[slug], name=name)
        tokens[slug] = token
    for slug in (A, B):  # one batch of aggregates per region, through the agents' own path
        now = datetime.now(UTC) - timedelta(minutes=10)
        epoch = int(now.timestamp())
        start = datetime.fromtimestamp(epoch - epoch % 300, UTC)
        body = {
            "idempotency_key": f"matrix-metrics-{slug}",
            "period_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "period_seconds": 300,
            "items": [{"metric": "inference.requests", "dimensions": {}, "value": 40.0, "count": 40}],
        }
        from controlplane.distribution.services import authenticate_agent

        result = metrics_services.metrics_ingest(
            principal=authenticate_agent(tokens[slug]), body=json.dumps(body).encode()
        )
        assert result.status == 201, result.body

    def notice_of(username):
        notice = Notice.objects.filter(recipient=people[username]).order_by("pk").first()
        assert notice is not None, f"the demo leaves {username} a notice"
        return notice

    from controlplane.distribution.models import ConfigBundle

    bundles = {
        slug: ConfigBundle.objects.filter(region=regions[slug]).latest() for slug in (A, B)
    }
    reset_caches()
    return SimpleNamespace(
        people=people,
        requester_b=requester_b,
        regions=regions,
        requests=requests,
        records=records,
        deployments=deployments,
        reports=reports,
        agents=agents,
        tokens=tokens,
        bundles=bundles,
        notices=SimpleNamespace(a=notice_of("dpo-eu"), b=notice_of("dpo-us")),
        mechanism=Mechanism.objects.get(key="scc-acme-eu-sakura"),
        version=ModelVersion.objects.get(model__name="fraud-scoring", version="1.0.0-eu-central"),
    )
