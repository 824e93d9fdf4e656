"""Concurrent decisions on PostgreSQL: row locks leave exactly one outcome."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

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


# --- Two identical deployment requests -----------------------------------------------------------
#
# A duplicate is found in one of three places, depending on when the twin commits: the check
# before the insert (it committed first), the model's unique validation in ``full_clean`` (it
# committed after the check), or the database's partial unique index (after the validation).
# Each interleaving is forced here: the twin runs to its commit in another thread, on its own
# connection, at that exact point of the first request. Every one must end in the same 409.


def _twin_commits_during(monkeypatch, owner, name, *, after: bool, request):
    """Run ``request()`` to its commit in another thread the first time ``owner.name`` is called
    (before or after the real call); returns what the twin got."""
    real = getattr(owner, name)
    twin = {}

    def run_twin():
        thread = threading.Thread(target=lambda: twin.update(result=_outcome(request)))
        thread.start()
        thread.join(30)
        assert not thread.is_alive(), "the twin request hung"

    def hooked(*args, **kwargs):
        first = "result" not in twin and not twin.get("running")
        if not first:
            return real(*args, **kwargs)
        twin["running"] = True
        if not after:
            run_twin()
        value = real(*args, **kwargs)
        if after:
            run_twin()
        return value

    monkeypatch.setattr(owner, name, hooked)
    return twin


def _outcome(call):
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - the test inspects what the twin got
        return error
    finally:
        connection.close()


# Where the first request is when its twin commits: just after its check (its model validation
# sees the twin), or just after its validation (the database's unique index sees the twin).
INTERLEAVINGS = {
    "after_the_check": (services, "check_deployment", False),
    "after_the_validation": (DeploymentApproval, "full_clean", True),
}


@pytest.mark.parametrize("interleaving", ["after_the_check", "after_the_validation"])
def test_two_identical_requests_at_once_create_one(reg, postgres, monkeypatch, interleaving):
    """The twin commits while the first request is between its check and its insert: the first
    gets the same 409 (code ``duplicate``) as a request arriving after the commit."""
    e = reg.estate
    mv = reg.version("1.0")

    def request():
        return services.deployment_request(version=mv, region=e.eu_west, by=e.ml_engineer)

    owner, name, after = INTERLEAVINGS[interleaving]
    twin = _twin_commits_during(monkeypatch, owner, name, after=after, request=request)
    first = _outcome(request)

    assert isinstance(twin["result"], DeploymentApproval), twin
    assert isinstance(first, ConflictError), repr(first)
    late = _outcome(request)  # the plain case: the check before the insert finds it
    assert isinstance(late, ConflictError), repr(late)
    assert (first.code, str(first)) == (late.code, str(late)) == ("duplicate", str(late))
    assert f"({twin['result']})" in str(first)
    assert DeploymentApproval.objects.filter(version=mv, region=e.eu_west).count() == 1


def test_two_identical_requests_released_together_create_one(reg, postgres):
    """Both pass the check at once; whichever inserts second gets the 409, never a 400."""
    e = reg.estate
    mv = reg.version("1.0")
    results = run_at_once(
        lambda: services.deployment_request(version=mv, region=e.eu_west, by=e.ml_engineer),
        lambda: services.deployment_request(version=mv, region=e.eu_west, by=e.ml_engineer),
    )
    assert sum(isinstance(r, DeploymentApproval) for r in results) == 1, results
    conflicts = [r for r in results if isinstance(r, ConflictError)]
    assert [c.code for c in conflicts] == ["duplicate"], results
    assert DeploymentApproval.objects.filter(version=mv, region=e.eu_west).count() == 1


@pytest.mark.parametrize("interleaving", ["after_the_check", "after_the_validation"])
def test_the_api_answers_a_request_racing_its_twin_with_409(
    reg, postgres, monkeypatch, interleaving
):
    """Through the API: 409 with the same body as a duplicate sent after the commit (it was a
    400 from the model's unique validation)."""
    e = reg.estate
    mv = reg.version("1.0")
    client = APIClient()
    client.force_authenticate(e.ml_engineer)
    url = "/api/v1/models/fraud/versions/1.0/deployments/"

    def twin_request():
        return services.deployment_request(version=mv, region=e.eu_west, by=e.ml_engineer)

    owner, name, after = INTERLEAVINGS[interleaving]
    twin = _twin_commits_during(monkeypatch, owner, name, after=after, request=twin_request)
    racing = client.post(url, {"region": "eu-west"}, format="json")
    late = client.post(url, {"region": "eu-west"}, format="json")

    assert isinstance(twin["result"], DeploymentApproval), twin
    assert (racing.status_code, late.status_code) == (409, 409), racing.content
    assert racing.json() == late.json()
    assert racing.json()["code"] == "duplicate"
