"""No 5xx on any input: schemathesis over ``/api/schema/``, every operation, as a DPO, an
administrator and an agent.

Each operation gets ``FUZZ_EXAMPLES`` generated requests per caller (derandomized, so a run
is repeatable; ``FUZZ_EXAMPLES=200 pytest tests/security/test_api_fuzz.py`` goes deeper), sent
in-process through Django's WSGI handler against the matrix estate (``conftest.py``), each in a
savepoint that is rolled back. Every answer must be below 500 and, where the schema documents
its status, match the schema. Failures are collected over all operations and reported
together, with the request that caused each.
"""

import os
from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.security.conftest import reset_caches

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
# Operations a caller cannot use at all (the agents' API for people, the people's API for an
# agent) answer 401 before reading anything: a few examples show that, without 5xx.
ELSEWHERE_EXAMPLES = min(EXAMPLES, 2)
CHECKS = [not_a_server_error, response_schema_conformance]


@contextmanager
def in_process_requests():
    """Requests through the WSGI handler share the test's connection and transaction (Django's
    test client does the same): the handler must not close the connection around them."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def signed_in(user) -> dict:
    """A signed-in person's session cookie, with a CSRF token so that writes reach the view."""
    client = Client()
    client.force_login(user)
    csrf = _get_new_csrf_string()
    return {
        "headers": {"X-CSRFToken": csrf},
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
    }


def fuzz(schema, credentials: dict, *, agent: bool) -> list[str]:
    headers = credentials["headers"]
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        own = operation.path.startswith("/api/v1/agent/") == agent

        @settings(
            max_examples=EXAMPLES if own else ELSEWHERE_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(
            case=st.one_of(
                operation.as_strategy(),  # what the schema allows
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),  # and what not
            )
        )
        def check(case):
            with transaction.atomic():
                response = case.call(**credentials)
                transaction.set_rollback(True)
            if case.method != "GET" and response.status_code < 400:
                reset_caches()  # a write went through (and was rolled back)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - all are reported
            failures.append(f"{operation.method.upper()} {operation.path}: {error}"[:3000])
    return failures


@pytest.fixture
def api(security_estate, postgres):
    with in_process_requests() as app:
        yield schemathesis.openapi.from_wsgi("/api/schema/", app)


@pytest.mark.postgres
@pytest.mark.parametrize("caller", ["dpo", "admin", "agent"])
def test_no_input_makes_the_api_fail(api, security_estate, caller):
    e = security_estate
    credentials = {
        "dpo": lambda: signed_in(e.people["dpo-eu"]),
        "admin": lambda: signed_in(e.people["admin"]),
        "agent": lambda: {
            "headers": {"Authorization": f"Bearer {e.tokens['eu-central']}"},
            "cookies": {},
        },
    }[caller]()
    failures = fuzz(api, credentials, agent=caller == "agent")
    assert not failures, f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures)
