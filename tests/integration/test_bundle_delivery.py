"""End to end with real processes: a live server, a Celery worker and the agent CLI.

The state changes: a DPO approving a model deployment (model registry), and residency-rule
changes through the estate service; both reach publishing through the same listeners.
Needs PostgreSQL (the worker and the live server share the test database) and Redis (the broker
both sides see); skips on the embedded defaults and fails under REQUIRE_SERVICES=1.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from controlplane.distribution import conf, keys, services
from controlplane.distribution.models import ConfigBundle, Delivery
from regions.models import ResidencyRule
from regions.services import estate_object_save

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(predicate, *, timeout: float, what: str, procs=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    logs = "".join(f"\n--- {n} ---\n{procs.log(n)}" for n in procs.running) if procs else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{logs}")


class Processes:
    def __init__(self, tmp_path: Path, env: dict):
        self.tmp, self.env, self.running = tmp_path, env, {}

    def start(self, name: str, args: list[str]):
        log = open(self.tmp / f"{name}.log", "ab")
        self.running[name] = (
            subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT),
            log,
        )

    def stop(self, name: str):
        proc, log = self.running.pop(name)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop_all(self):
        for name in list(self.running):
            self.stop(name)


@pytest.fixture
def tuf_keys(db, settings, tmp_path):
    """Key files first, so that publishing triggered while the estate is seeded uses them too."""
    settings.TUF_KEY_DIR = str(tmp_path / "keys")
    settings.TUF_ROOT_KEY_DIR = str(tmp_path / "root-keys")
    keys._cache.clear()
    services.repository_init()
    yield str(conf.trusted_root_file())
    keys._cache.clear()


@pytest.fixture
def world(tuf_keys, postgres, redis_url, live_server, estate, settings, tmp_path):
    root = tuf_keys
    services._memo.clear()
    cache.clear()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": redis_url,
        "TUF_KEY_DIR": settings.TUF_KEY_DIR,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "PYTHONUNBUFFERED": "1",
    }
    procs = Processes(tmp_path, env)
    services.publish_region(region=estate.eu_central, reason="integration start")
    ns = type("World", (), {})()
    ns.root, ns.procs, ns.estate, ns.url, ns.tmp = root, procs, estate, live_server.url, tmp_path
    yield ns
    procs.stop_all()
    cache.clear()


def start_worker(world):
    world.procs.start(
        "worker",
        [PYTHON, "-m", "celery", "-A", "controlplane", "worker", "--pool=solo", "-l", "INFO"],
    )
    _wait_for(
        lambda: "ready" in world.procs.log("worker"),
        timeout=30,
        what="the Celery worker",
        procs=world.procs,
    )


def start_agent(world, token, *, port=None, poll=60.0):
    args = [PYTHON, "-m", "agents.cli", "run", "--url", world.url, "--token", token]
    args += ["--region", "eu-central", "--trusted-root", world.root]
    args += ["--state-dir", str(world.tmp / "agent-state")]
    args += ["--poll-min", str(poll), "--poll-max", str(poll)]
    if port:
        args += ["--listen", f"127.0.0.1:{port}"]
    world.procs.start("agent", args)


def agent_status(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=1) as r:
            return json.loads(r.read())
    except OSError:
        return None


def change_state(world, tag):
    rule = ResidencyRule.objects.filter(region=world.estate.eu_central).order_by("position").last()
    rule.contract_tag = tag
    estate_object_save(instance=rule, by=world.estate.admin)  # commits; publishes on commit
    return ConfigBundle.objects.filter(region=world.estate.eu_central).latest()


def approve_deployment(world, label):
    """An ML engineer registers a regional EEA model version; the EU DPO approves it here."""
    from controlplane.modelregistry import services as registry
    from regions.models import DataCategory, Jurisdiction

    e = world.estate
    model = registry.model_create(
        name="scoring-" + label.replace(".", "-"),
        purpose="Scores",
        owner_team="Risk",
        by=e.ml_engineer,
    )
    version = registry.version_register(
        model=model,
        version=label,
        digest="sha256:" + hashlib.sha256(label.encode()).hexdigest(),
        framework="xgboost 2.1",
        metrics={"auc": 0.9},
        training_mode="regional",
        contains_personal_data=True,
        training_jurisdictions=[Jurisdiction.objects.get(code="EEA")],
        data_categories=[DataCategory.objects.get(key="user.financial")],
        base_version=None,
        participating_regions=[],
        artifacts={e.eu_central: f"s3://models-eu-central/{label}"},
        by=e.ml_engineer,
    )
    approval = registry.deployment_request(version=version, region=e.eu_central, by=e.ml_engineer)
    registry.deployment_approve(approval=approval, by=e.dpo_eu)  # commits; publishes on commit
    return version, ConfigBundle.objects.filter(region=e.eu_central).latest()


def applied_content(world):
    bundle = world.tmp / "agent-state" / "bundle.json"
    return json.loads(bundle.read_text())["content"]


def applied_version(world):
    state = world.tmp / "agent-state" / "state.json"
    return json.loads(state.read_text())["version"] if state.exists() else None


def test_push_applies_within_seconds_then_polling_catches_up_without_push(world, settings):
    port = _free_port()
    agent, token = services.agent_enroll(
        region=world.estate.eu_central, name="it", callback_url=f"http://127.0.0.1:{port}"
    )
    start_worker(world)
    start_agent(world, token, port=port, poll=120)  # polls once at start, then not for 2 min
    first = ConfigBundle.objects.filter(region=world.estate.eu_central).latest().version
    _wait_for(
        lambda: applied_version(world) == first, timeout=15, what="first poll", procs=world.procs
    )
    _wait_for(
        lambda: agent_status(port), timeout=10, what="the agent's listener", procs=world.procs
    )

    started = time.monotonic()
    model_version, bundle = approve_deployment(world, "7.1.0")
    assert bundle.version == first + 1
    _wait_for(
        lambda: applied_version(world) == bundle.version,
        timeout=10,
        what="the pushed bundle",
        procs=world.procs,
    )
    push_seconds = time.monotonic() - started
    assert push_seconds < 10
    assert model_version.digest in {m["digest"] for m in applied_content(world)["models"]}
    _wait_for(
        lambda: Delivery.objects.filter(bundle=bundle, state="delivered").exists(),
        timeout=10,
        what="the delivery row",
        procs=world.procs,
    )
    # The agent reported back: the control plane sees it in sync.
    _wait_for(
        lambda: (
            services.selectors.agents_with_drift(type(agent).objects.filter(pk=agent.pk))[
                0
            ].live_drift
            == "synced"
        ),
        timeout=10,
        what="drift synced",
        procs=world.procs,
    )

    # Push disabled: the same agent, now polling every second, catches up by itself.
    world.procs.stop("agent")
    settings.BUNDLE_PUSH_ENABLED = False
    start_agent(world, token, poll=1)
    bundle = change_state(world, "poll-1")
    assert not Delivery.objects.filter(bundle=bundle, state="delivered").exists()
    _wait_for(
        lambda: applied_version(world) == bundle.version,
        timeout=15,
        what="polling",
        procs=world.procs,
    )


def test_agent_down_catches_up_at_start_and_worker_down_delivers_when_it_starts(world):
    port = _free_port()
    agent, token = services.agent_enroll(
        region=world.estate.eu_central, name="late", callback_url=f"http://127.0.0.1:{port}"
    )
    # The agent is down during the change: it catches up when it starts.
    bundle = change_state(world, "while-agent-down")
    start_agent(world, token, port=port, poll=120)
    _wait_for(
        lambda: applied_version(world) == bundle.version,
        timeout=15,
        what="catch-up",
        procs=world.procs,
    )
    _wait_for(
        lambda: agent_status(port), timeout=10, what="the agent's listener", procs=world.procs
    )

    # No worker at commit time: the push waits in the broker and the outbox row stays pending.
    bundle = change_state(world, "while-worker-down")
    time.sleep(1.0)  # give a (non-existent) worker the chance to be wrong
    assert Delivery.objects.get(bundle=bundle).state == "pending"
    assert applied_version(world) == bundle.version - 1  # agent polls only every 2 minutes
    start_worker(world)
    _wait_for(
        lambda: applied_version(world) == bundle.version,
        timeout=20,
        what="late delivery",
        procs=world.procs,
    )
    assert Delivery.objects.get(bundle=bundle).state == "delivered"
