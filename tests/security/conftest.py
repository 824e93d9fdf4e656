"""One estate for the authorization matrix and the API fuzzing, built once for the package.

Building the demo estate (every app's demo data, the TUF repository, two agents) takes seconds;
the matrix makes thousands of calls against it and the fuzzing hundreds more, so it is built
once inside a transaction that is rolled back when the package's tests are done. Each call the
tests make runs in a savepoint that is rolled back too, so no call sees another's writes.

Region A is ``eu-central``, region B is ``us-east``. Region A's people (``requester-a``,
``ml-engineer-a``, made here, and the demo's ``dpo-eu``) and agent may see ``eu-central`` and
``eu-west`` only; region B's DPO (``dpo-us``) and agent see ``us-east`` and ``ap-northeast``.
``_side()`` makes the same records in each region (``estate.sides["A"]``, ``["B"]``): transfer
requests in every state a decision needs, a deployment to decide and one to retire, an executed
transfer, a report and a DPO's notice, so that each write of the matrix has an object it would
succeed on.
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
PASSWORD = "unused-password-x"  # every person the package makes (the login form's example)
# Who sees what in the matrix: the regions each side's people may view.
SIDE_REGIONS = {"A": {"eu-central", "eu-west"}, "B": {"us-east", "ap-northeast"}}


def reset_caches():
    """Caches that outlive a rolled-back call (agent tokens, TUF heads) start empty again."""
    from controlplane import shared_cache
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


# What differs between the two regions' records; everything else is built the same way.
SIDES = {
    "A": SimpleNamespace(
        region=A,
        dpo="dpo-eu",
        exporter="Acme Europe GmbH",
        importer="Maple Support Inc",  # Canada's adequacy, with a scope question to confirm
        destination="CA",
    ),
    "B": SimpleNamespace(
        region=B,
        dpo="dpo-us",
        exporter="Acme Inc",
        importer="Cloudy Compute Inc",  # within the US: no transfer, nothing to confirm
        destination="US",
    ),
}


def _build(var) -> SimpleNamespace:
    from importlib import import_module

    from django.apps import apps
    from django.utils.module_loading import module_has_submodule

    from controlplane.distribution.demo import DEMO_AGENTS, agent_dir
    from controlplane.distribution.models import ConfigBundle
    from controlplane.distribution.services import authenticate_agent
    from controlplane.metrics import services as metrics_services
    from controlplane.modelregistry import services as registry
    from controlplane.modelregistry.demo import artifact_uri, demo_digest
    from controlplane.modelregistry.models import ModelVersion
    from controlplane.permissions import Role, ensure_role_groups
    from controlplane.transfers.models import Mechanism
    from regions.models import Agent, Region

    for app in apps.get_app_configs():  # what `manage.py seed_demo` does
        if module_has_submodule(app.module, "demo"):
            import_module(f"{app.name}.demo").seed()

    User = get_user_model()
    regions = {r.slug: r for r in Region.objects.all()}
    groups = ensure_role_groups()

    def person(username, role, viewable):
        user = User.objects.create_user(username=username, password=PASSWORD)
        user.groups.add(groups[role])
        for slug in viewable:
            assign_perm("regions.view_region", user, regions[slug])
        return user

    # Fresh people in each region (the demo's requester and ML engineer have rights in both
    # and requests in both); region A's are the matrix's requester and ML engineer.
    for side in SIDES:
        person(f"requester-{side.lower()}", Role.REQUESTER, sorted(SIDE_REGIONS[side]))
        person(f"ml-engineer-{side.lower()}", Role.ML_ENGINEER, sorted(SIDE_REGIONS[side]))
    people = {u.username: u for u in User.objects.all()}

    # Two synthetic versions every region may run: the first is asked for in each region (a
    # deployment to decide), the second nowhere yet (the matrix asks for it).
    intent = ModelVersion.objects.get(model__name="support-intent", version="0.9.0-synthetic").model

    def synthetic(version):
        return registry.version_register(
            model=intent,
            version=version,
            digest=demo_digest(intent.name, version),
            framework="matrix",
            training_mode="synthetic",
            contains_personal_data=False,
            artifacts={r: artifact_uri(r, intent.name, version) for r in regions.values()},
            by=people["ml-engineer-a"],
        )

    to_decide, to_ask = synthetic("0.9.1-matrix"), synthetic("0.9.2-matrix")
    sides = {
        side: _side(side, people=people, regions=regions, version=to_decide, var=var)
        for side in SIDES
    }

    agents = {}
    tokens = {}
    for slug, name in DEMO_AGENTS:  # the tokens seed_demo made for this installation
        agents[slug] = Agent.objects.get(region=regions[slug], name=name)
        tokens[slug] = (agent_dir() / f"{slug}.token").read_text().strip()
    for slug in (A, B):  # one batch of aggregates per region, through the agents' own path
        result = metrics_services.metrics_ingest(
            principal=authenticate_agent(tokens[slug]),
            body=json.dumps(metrics_batch(f"matrix-metrics-{slug}")).encode(),
        )
        assert result.status == 201, result.body

    bundles = {slug: ConfigBundle.objects.filter(region=regions[slug]).latest() for slug in (A, B)}
    reset_caches()
    return SimpleNamespace(
        people=people,
        regions=regions,
        sides=sides,
        agents=agents,
        tokens=tokens,
        bundles=bundles,
        mechanism=Mechanism.objects.get(key="scc-acme-eu-sakura"),
        version=ModelVersion.objects.get(model__name="fraud-scoring", version="1.0.0-eu-central"),
        to_ask=to_ask,
    )


def metrics_batch(key, dimensions=None) -> dict:
    """A valid batch of aggregates for the period that ended five to ten minutes ago."""
    epoch = int((datetime.now(UTC) - timedelta(minutes=10)).timestamp())
    start = datetime.fromtimestamp(epoch - epoch % 300, UTC)
    return {
        "idempotency_key": key,
        "period_start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "period_seconds": 300,
        "items": [
            {
                "metric": "inference.requests",
                "dimensions": dimensions or {},
                "value": 40.0,
                "count": 40,
            }
        ],
    }


def _side(side, *, people, regions, version, var) -> SimpleNamespace:
    """One region's records for the matrix, made the same way in region A and in region B:
    transfer requests in each state a decision needs (a draft, submitted, approved, suspended),
    an executed transfer, a deployment asked for and an approved one, a report, a DPO's notice."""
    from controlplane.modelregistry import services as registry
    from controlplane.modelregistry.models import DeploymentApproval, DeploymentStatus
    from controlplane.notifications.models import Notice
    from controlplane.reports.models import Report, ReportStatus
    from controlplane.transfers import policy as tp
    from controlplane.transfers import services as transfers
    from controlplane.transfers.models import Party, TransferRequest, TransferStatus
    from regions.models import Country, DataCategory

    facts = SIDES[side]
    region = regions[facts.region]
    requester = people[f"requester-{side.lower()}"]
    dpo = people[facts.dpo]
    parties = {p.name: p for p in Party.objects.filter(name__in=[facts.exporter, facts.importer])}
    email = list(DataCategory.objects.filter(key="user.contact.email"))

    def request(purpose, *, submit=True):
        return transfers.transfer_request_create(
            by=requester,
            source_region=region,
            destination_country=Country.objects.get(code=facts.destination),
            exporter=parties[facts.exporter],
            importer=parties[facts.importer],
            data_categories=email,
            data_subjects="customers",
            purpose=f"Matrix {side}: {purpose}",
            frequency=tp.RECURRING,
            submit=submit,
        )

    def approved(purpose):
        tr = request(purpose)
        codes = [c.code for c in tr.conditions_to_confirm]
        return transfers.transfer_request_approve(request=tr, by=dpo, confirmed=codes)

    suspended = approved("suspended when its basis ended")
    # The state a mechanism's ending leaves (tests/transfers goes there the long way).
    TransferRequest.objects.filter(pk=suspended.pk).update(
        status=TransferStatus.SUSPENDED,
        ended_at=datetime.now(UTC),
        end_reason="Matrix: its basis ended.",
        confirmed_conditions=[],
    )

    report = Report.objects.create(
        kind="mechanism_inventory",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 1, 31),
        scope_label=f"Matrix {side} scope",
        status=ReportStatus.DONE,
        requested_by=people["admin"],
        file=f"matrix-{facts.region}.pdf",
        sha256="0" * 64,
    )
    report.regions.set([region])
    (var / "reports").mkdir(parents=True, exist_ok=True)
    (var / "reports" / f"matrix-{facts.region}.pdf").write_bytes(b"%PDF-1.4 matrix\n")

    notice = Notice.objects.filter(recipient=dpo).order_by("pk").first()
    assert notice is not None, f"the demo leaves {dpo} a notice"
    return SimpleNamespace(
        region=region,
        draft=request("the requester's draft", submit=False),
        submitted=request("labelling abroad"),
        approved=approved("an approved transfer"),
        suspended=TransferRequest.objects.get(pk=suspended.pk),
        record=transfers.transfer_record_create(
            by=None,
            source_region=region,
            destination_country=Country.objects.get(code=facts.destination),
            categories=["user.contact.email"],
            volume=10,
            executed_at=datetime.now(UTC) - timedelta(hours=2),
            exporter_name=f"Matrix {side} exporter",
            idempotency_key=f"matrix-{side.lower()}-record-key",
        ),
        deployment=registry.deployment_request(
            version=version,
            region=region,
            by=people[f"ml-engineer-{side.lower()}"],
            justification=f"Matrix {side}: synthetic intent model for {facts.region}.",
        ),
        deployed=DeploymentApproval.objects.filter(
            region=region, status=DeploymentStatus.APPROVED, version__model__name="fraud-scoring"
        )
        .order_by("pk")
        .first(),
        report=report,
        notice=notice,
    )
