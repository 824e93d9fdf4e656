"""Concurrent decisions on PostgreSQL: row locks leave exactly one outcome."""

import threading

import pytest
from django.db import connection

from controlplane.errors import ConflictError
from controlplane.modelregistry import services
from controlplane.modelregistry.models import DeploymentApproval

pytestmark = pytest.mark.django_db(transaction=True)


def run_at_once(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as error:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_approvals_of_different_versions_leave_one_desired(reg, postgres, make_user):
    e = reg.estate
    second_dpo = make_user("dpo", view=[e.eu_central], approve_deployments=[e.eu_central])
    a1 = services.deployment_request(
        version=reg.version("1.0"), region=e.eu_central, by=e.ml_engineer
    )
    a2 = services.deployment_request(
        version=reg.version("1.1"), region=e.eu_central, by=e.ml_engineer
    )
    results = run_at_once(
        lambda: services.deployment_approve(approval=a1, by=e.dpo_eu),
        lambda: services.deployment_approve(approval=a2, by=second_dpo),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    rows = DeploymentApproval.objects.filter(region=e.eu_central)
    assert set(rows.values_list("status", flat=True)) == {"approved"}
    assert rows.filter(is_desired=True).count() == 1


def test_two_decisions_on_one_request_end_with_one(reg, postgres, make_user):
    e = reg.estate
    second_dpo = make_user("dpo", view=[e.eu_central], approve_deployments=[e.eu_central])
    approval = services.deployment_request(
        version=reg.version("1.0"), region=e.eu_central, by=e.ml_engineer
    )
    results = run_at_once(
        lambda: services.deployment_approve(approval=approval, by=e.dpo_eu),
        lambda: services.deployment_reject(approval=approval, by=second_dpo, reason="no"),
    )
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    assert len(conflicts) == 1, results
    approval.refresh_from_db()
    assert approval.status in ("approved", "rejected")


def test_two_identical_requests_at_once_create_one(reg, postgres):
    e = reg.estate
    mv = reg.version("1.0")
    results = run_at_once(
        lambda: services.deployment_request(version=mv, region=e.eu_west, by=e.ml_engineer),
        lambda: services.deployment_request(version=mv, region=e.eu_west, by=e.ml_engineer),
    )
    assert sum(isinstance(r, DeploymentApproval) for r in results) == 1, results
    assert sum(isinstance(r, ConflictError) for r in results) == 1, results
    assert DeploymentApproval.objects.filter(version=mv, region=e.eu_west).count() == 1
