"""A transfer to a country reaches that country's agents, and ending its mechanism takes the
deployment it carried away from them (issue 13.2), with a real worker, Redis and agent.

Needs PostgreSQL and Redis like test_bundle_delivery (whose process helpers it reuses).
"""

import hashlib
import time

import pytest

from controlplane.distribution import services
from controlplane.distribution.models import ConfigBundle
from controlplane.transfers import policy as tp
from controlplane.transfers import services as transfers
from controlplane.transfers.models import Party
from regions.models import Country, DataCategory, Jurisdiction

from . import test_bundle_delivery as delivery
from .test_bundle_delivery import (
    PYTHON,
    _free_port,
    _wait_for,
    agent_status,
    applied_content,
    applied_version,
    start_worker,
)

tuf_keys = delivery.tuf_keys  # the same fixtures: key files, live server, worker and agent processes
world = delivery.world

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def start_us_agent(world, token, port):
    args = [PYTHON, "-m", "agents.cli", "run", "--url", world.url, "--token", token]
    args += ["--region", "us-east", "--trusted-root", world.root]
    args += ["--state-dir", str(world.tmp / "agent-state")]
    args += ["--poll-min", "120", "--poll-max", "120", "--listen", f"127.0.0.1:{port}"]
    world.procs.start("agent", args)


def _country_transfer(estate):
    transfers.reference_mechanisms_sync()
    tr = transfers.transfer_request_create(
        by=estate.requester,
        source_region=estate.eu_central,
        destination_country=Country.objects.get(code="US"),  # a country: no region named
        exporter=Party.objects.create(
            name="Acme GmbH",
            country=Country.objects.get(code="DE"),
            role=tp.CONTROLLER,
            hints=["commercial_organisation"],
        ),
        importer=Party.objects.create(
            name="Acme US Inc",
            country=Country.objects.get(code="US"),
            role=tp.CONTROLLER,
            certifications=[tp.CERT_EU_US_DPF],
            hints=["commercial_organisation"],
        ),
        data_categories=list(DataCategory.objects.filter(key="user.financial")),
        purpose="Fraud scores for US checkout",
        data_subjects="EU customers",
        frequency=tp.RECURRING,
        submit=True,
    )
    assert tr.policy_allowed and tr.destination_region_id is None, tr.policy_findings
    return tr


def _deploy_eea_model(estate):
    from controlplane.modelregistry import services as registry

    model = registry.model_create(
        name="fraud", purpose="Scores", owner_team="Risk", by=estate.ml_engineer
    )
    version = registry.version_register(
        model=model,
        version="1.0",
        digest="sha256:" + hashlib.sha256(b"fraud-1.0").hexdigest(),
        framework="xgboost",
        training_mode="regional",
        contains_personal_data=True,
        training_jurisdictions=[Jurisdiction.objects.get(code="EEA")],
        data_categories=list(DataCategory.objects.filter(key="user.financial")),
        artifacts={estate.us_east: "s3://models-us-east/fraud-1.0"},
        by=estate.ml_engineer,
    )
    approval = registry.deployment_request(
        version=version, region=estate.us_east, by=estate.ml_engineer
    )
    assert approval.policy_allowed, approval.policy_findings
    return registry.deployment_approve(approval=approval, by=estate.dpo_us)


def _latest(region):
    return ConfigBundle.objects.filter(region=region).latest()


def test_a_transfer_to_a_country_reaches_its_agents_and_ending_it_drops_the_model(world):
    e = world.estate
    port = _free_port()
    agent, token = services.agent_enroll(
        region=e.us_east, name="us-1", callback_url=f"http://127.0.0.1:{port}"
    )
    services.publish_region(region=e.us_east, reason="integration start")
    start_worker(world)
    start_us_agent(world, token, port)  # polls at start, then only every 2 minutes
    first = _latest(e.us_east).version
    _wait_for(
        lambda: applied_version(world) == first, timeout=15, what="first poll", procs=world.procs
    )
    _wait_for(
        lambda: agent_status(port), timeout=10, what="the agent's listener", procs=world.procs
    )

    # Approving a transfer to the United States republishes us-east at once (push, not poll).
    tr = _country_transfer(e)
    started = time.monotonic()
    transfers.transfer_request_approve(request=tr, by=e.dpo_eu)
    _wait_for(
        lambda: f"TR-{tr.pk}" in {t["id"] for t in applied_content(world)["transfers"]},
        timeout=10,
        what="the transfer in us-east's agent",
        procs=world.procs,
    )
    print(f"transfer reached the us-east agent in {time.monotonic() - started:.1f}s")

    approval = _deploy_eea_model(e)
    _wait_for(
        lambda: approval.version.digest in {m["digest"] for m in applied_content(world)["models"]},
        timeout=10,
        what="the model in us-east's agent",
        procs=world.procs,
    )

    # Ending the mechanism suspends the transfer, withdraws the deployment, and the agent drops
    # the model (and the transfer) within seconds.
    started = time.monotonic()
    transfers.mechanism_end(
        mechanism=tr.policy_mechanism, by=e.dpo_eu, status="suspended", reason="Court ruling"
    )
    approval.refresh_from_db()
    assert approval.status == "retired" and approval.withdrawn_because_id == tr.pk
    _wait_for(
        lambda: (
            applied_content(world)["models"] == []
            and f"TR-{tr.pk}" not in {t["id"] for t in applied_content(world)["transfers"]}
        ),
        timeout=10,
        what="the agent dropping the model",
        procs=world.procs,
    )
    print(f"agent dropped the model {time.monotonic() - started:.1f}s after the mechanism ended")
