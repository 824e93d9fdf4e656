"""The authorization matrix: every page and API operation, called as every role.

The rows come from the URL configuration (``urlconf.routes()``), so a new endpoint cannot
escape: ``test_every_endpoint_is_in_the_matrix`` fails until the table below says what each
role gets from it. Each row is a route, an HTTP method the view allows, the object it is
called on (``A``: one of region A's, ``B``: one of region B's, ``-``: none or a shared one)
and the expected answer per role. ``L`` is a redirect to a login page; other codes are HTTP
statuses.

Every write carries a valid body (``examples.py``: the form or the JSON that the role allowed to
make it would send, naming the row's region's things), so a refusal is about who calls, not
what is missing; ``test_every_write_has_an_example`` keeps a new write from going without one.
A write whose body names a region (a new transfer request names its source region) has rows
for ``A`` and ``B`` like a write on a region's object.

A ``*`` after a code means the call changed the database: PostgreSQL's count of the rows it
inserted, updated or deleted (``tuples_written()``), and for the decisions the object itself
(the example's ``effect``: the request's status...). Every other answer, refusals first, must
change nothing. Two writes are no one's doing and not counted: an agent's heartbeat (any call
it authenticates) and the refusal log of metric batches. The count includes a write that the
call rolled back itself: the revocation drill's simulation runs the real ending and rolls it
back, so it shows ``200*``.

Region A is ``eu-central``, region B ``us-east`` (see ``conftest.py``). The columns:
anonymous, the requester and the ML engineer of region A, ``dpo-eu`` (region A),
``dpo-us`` (region B), the auditor, and the agents of regions A and B.

Besides the statuses, no body that region A's people or agent receive names anything of
region B (``markers()``), and the other way round. What stays visible across regions is
listed in docs/security.md.

Pages under ``/admin/`` are Django's admin site: every view it makes is wrapped in
``admin_view`` (staff only). The matrix still calls each of them, as every role, with the
expectations of the ``ADMIN`` rows.
"""

import copy
import functools
import io
import json
import logging
import os
import re
import zipfile
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client

from tests.security.conftest import SIDE_REGIONS, reset_caches
from tests.security.examples import ADMIN_PREFIX, EXAMPLES, NO_EXAMPLE
from tests.security.urlconf import routes, url_for

ROLES = ("anon", "requester", "ml", "dpo_a", "dpo_b", "auditor", "agent_a", "agent_b")
PEOPLE = {
    "requester": "requester-a",
    "ml": "ml-engineer-a",
    "dpo_a": "dpo-eu",
    "dpo_b": "dpo-us",
    "auditor": "auditor",
}
SIDE_OF = {"requester": "A", "ml": "A", "dpo_a": "A", "agent_a": "A", "dpo_b": "B", "agent_b": "B"}

# fmt: off
MATRIX = """
# route                                                        method obj anon  req   ml    dpoA  dpoB  aud   agA   agB
/api/v1/agent/tuf/targets/<slug:region>/<str:name>             GET    A   401   401   401   401   401   401   200   404
/api/v1/agent/tuf/targets/<slug:region>/<str:name>             GET    B   401   401   401   401   401   401   404   200
/api/v1/agent/tuf/<str:name>                                   GET    -   401   401   401   401   401   401   200   200
/api/v1/agent/status                                           POST   A   401   401   401   401   401   401   200*  403
/api/v1/agent/status                                           POST   B   401   401   401   401   401   401   403   200*
/api/v1/agent/transfers                                        POST   -   401   401   401   401   401   401   201*  201*
/api/v1/agent/metrics                                          POST   A   401   401   401   401   401   401   201*  400
/api/v1/agent/metrics                                          POST   B   401   401   401   401   401   401   400   201*

/                                                              GET    -   L     200   200   200   200   200   L     L

/favicon.ico                                                   GET    -   301   301   301   301   301   301   301   301

/login/                                                        GET    -   200   302   302   302   302   302   200   200
/login/                                                        POST   -   302*  302   302   302   302   302   302*  302*
/login/                                                        PUT    -   200   302   302   302   302   302   200   200

/logout/                                                       POST   -   L     L*    L*    L*    L*    L*    L     L

/regions/                                                      GET    -   L     200   200   200   200   200   L     L
/regions/iac.zip                                               GET    -   L     200   200   200   200   200   L     L
/regions/<slug:slug>/                                          GET    A   L     200   200   200   404   200   L     L
/regions/<slug:slug>/                                          GET    B   L     404   404   404   200   200   L     L
/regions/<slug:slug>/iac.zip                                   GET    A   L     200   200   200   404   200   L     L
/regions/<slug:slug>/iac.zip                                   GET    B   L     404   404   404   200   200   L     L
/regions/<slug:slug>/iac/<path:name>                           GET    A   L     200   200   200   404   200   L     L
/regions/<slug:slug>/iac/<path:name>                           GET    B   L     404   404   404   200   200   L     L

/audit/                                                        GET    -   L     403   403   200   200   200   L     L

/agents/                                                       GET    -   L     200   200   200   200   200   L     L
/agents/enroll/                                                GET    -   L     403   403   403   403   403   L     L
/agents/enroll/                                                POST   A   L     403   403   403   403   403   L     L
/agents/enroll/                                                POST   B   L     403   403   403   403   403   L     L
/agents/<uuid:pk>/                                             GET    A   L     200   200   200   404   200   L     L
/agents/<uuid:pk>/                                             GET    B   L     404   404   404   200   200   L     L
/agents/<uuid:pk>/rotate/                                      POST   A   L     403   403   403   403   403   L     L
/agents/<uuid:pk>/rotate/                                      POST   B   L     403   403   403   403   403   L     L
/agents/<uuid:pk>/revoke/                                      POST   A   L     403   403   403   403   403   L     L
/agents/<uuid:pk>/revoke/                                      POST   B   L     403   403   403   403   403   L     L

/transfers/                                                    GET    -   L     302   302   200   200   200   L     L
/transfers/mine/                                               GET    -   L     200   200   200   200   200   L     L
/transfers/new/                                                GET    -   L     200   200   200   200   200   L     L
/transfers/new/                                                POST   A   L     302*  302*  302*  400   403   L     L
/transfers/new/                                                POST   B   L     400   400   400   302*  403   L     L
/transfers/new/check/                                          POST   A   L     200   200   200   200   403   L     L
/transfers/new/check/                                          POST   B   L     200   200   200   200   403   L     L
/transfers/<int:pk>/                                           GET    A   L     200   200   200   404   200   L     L
/transfers/<int:pk>/                                           GET    B   L     404   404   404   200   200   L     L
/transfers/<int:pk>/submit/                                    POST   A   L     302*  403   403   404   403   L     L
/transfers/<int:pk>/submit/                                    POST   B   L     404   404   404   403   403   L     L
/transfers/<int:pk>/edit/                                      GET    A   L     200   403   403   404   403   L     L
/transfers/<int:pk>/edit/                                      GET    B   L     404   404   404   403   403   L     L
/transfers/<int:pk>/edit/                                      POST   A   L     302*  403   403   404   403   L     L
/transfers/<int:pk>/edit/                                      POST   B   L     404   404   404   403   403   L     L
/transfers/<int:pk>/delete/                                    POST   A   L     302*  403   403   404   403   L     L
/transfers/<int:pk>/delete/                                    POST   B   L     404   404   404   403   403   L     L
/transfers/<int:pk>/withdraw/                                  POST   A   L     302*  403   403   404   403   L     L
/transfers/<int:pk>/withdraw/                                  POST   B   L     404   404   404   403   403   L     L
/transfers/<int:pk>/approve/                                   POST   A   L     403   403   302*  404   403   L     L
/transfers/<int:pk>/approve/                                   POST   B   L     404   404   404   302*  403   L     L
/transfers/<int:pk>/reject/                                    POST   A   L     403   403   302*  404   403   L     L
/transfers/<int:pk>/reject/                                    POST   B   L     404   404   404   302*  403   L     L
/transfers/<int:pk>/revoke/                                    POST   A   L     403   403   302*  404   403   L     L
/transfers/<int:pk>/revoke/                                    POST   B   L     404   404   404   302*  403   L     L
/transfers/<int:pk>/reinstate/                                 POST   A   L     403   403   302*  404   403   L     L
/transfers/<int:pk>/reinstate/                                 POST   B   L     404   404   404   302*  403   L     L
/transfers/mechanisms/                                         GET    -   L     200   200   200   200   200   L     L
/transfers/mechanisms/<int:pk>/                                GET    -   L     200   200   200   200   200   L     L
/transfers/records/                                            GET    -   L     200   200   200   200   200   L     L

/models/                                                       GET    -   L     200   200   200   200   200   L     L
/models/new/                                                   GET    -   L     403   200   403   403   403   L     L
/models/new/                                                   POST   -   L     403   302*  403   403   403   L     L
/models/deployments/                                           GET    -   L     200   200   200   200   200   L     L
/models/deployments/<int:pk>/                                  GET    A   L     200   200   200   404   200   L     L
/models/deployments/<int:pk>/                                  GET    B   L     404   404   404   200   200   L     L
/models/deployments/<int:pk>/decide/                           POST   A   L     403   403   302*  404   403   L     L
/models/deployments/<int:pk>/decide/                           POST   B   L     404   404   404   302*  403   L     L
/models/deployments/<int:pk>/retire/                           POST   A   L     403   302*  302*  404   403   L     L
/models/deployments/<int:pk>/retire/                           POST   B   L     404   404   404   302*  403   L     L
/models/<str:name>/                                            GET    -   L     200   200   200   200   200   L     L
/models/<str:name>/versions/new/                               GET    -   L     403   200   403   403   403   L     L
/models/<str:name>/versions/new/                               POST   -   L     403   302*  403   403   403   L     L
/models/<str:name>/versions/new/check/                         POST   -   L     403   200   403   403   403   L     L
/models/<str:name>/versions/<str:version>/                     GET    -   L     200   200   200   200   200   L     L
/models/<str:name>/versions/<str:version>/lineage/             GET    -   L     200   200   200   200   200   L     L
/models/<str:name>/versions/<str:version>/request/             POST   A   L     403   302*  403   403   403   L     L
/models/<str:name>/versions/<str:version>/request/             POST   B   L     403   302   403   403   403   L     L

/inbox/                                                        GET    -   L     200   200   200   200   200   L     L
/inbox/read/                                                   POST   A   L     302   302   302*  302   403   L     L
/inbox/read/                                                   POST   B   L     302   302   302   302*  403   L     L
/inbox/<int:pk>/open/                                          POST   A   L     302   302   302*  302   403   L     L
/inbox/<int:pk>/open/                                          POST   B   L     302   302   302   302*  403   L     L
/inbox/settings/                                               GET    -   L     200   200   200   200   200   L     L
/inbox/settings/                                               POST   -   L     302*  302*  302*  302*  403   L     L

/routing/                                                      GET    -   L     200   200   200   200   200   L     L
/routing/endpoints/                                            GET    -   L     200   200   200   200   200   L     L
/routing/drill/<int:pk>/                                       GET    -   L     200   200   200   200   200   L     L
/routing/drill/<int:pk>/                                       POST   -   L     403   403   200*  403   403   L     L

/metrics/                                                      GET    -   L     200   200   200   200   200   L     L
/metrics/regions/<slug:slug>/                                  GET    A   L     200   200   200   404   200   L     L
/metrics/regions/<slug:slug>/                                  GET    B   L     404   404   404   200   200   L     L
/metrics/versions/<str:version>/                               GET    A   L     200   200   200   404   200   L     L
/metrics/versions/<str:version>/                               GET    B   L     404   404   404   200   200   L     L
/metrics/refusals/                                             GET    -   L     403   403   200   200   200   L     L

/reports/                                                      GET    -   L     200   200   200   200   200   L     L
/reports/                                                      POST   A   L     403   403   302*  200   403   L     L
/reports/                                                      POST   B   L     403   403   200   302*  403   L     L
/reports/<uuid:pk>/                                            GET    A   L     200   200   200   404   200   L     L
/reports/<uuid:pk>/                                            GET    B   L     404   404   404   200   200   L     L
/reports/<uuid:pk>/row/                                        GET    A   L     200   200   200   404   200   L     L
/reports/<uuid:pk>/row/                                        GET    B   L     404   404   404   200   200   L     L
/reports/<uuid:pk>/download/                                   GET    A   L     403   403   200   404   200   L     L
/reports/<uuid:pk>/download/                                   GET    B   L     403   403   404   200   200   L     L
/reports/<uuid:pk>/delete/                                     POST   A   L     403   403   403   404   403   L     L
/reports/<uuid:pk>/delete/                                     POST   B   L     404   404   404   403   403   L     L
/reports/export/<slug:dataset>.<str:fmt>                       GET    -   L     200   200   200   200   200   L     L

/api/v1/auth/token/                                            POST   -   200*  200*  200*  200*  200*  200*  200*  200*

/api/v1/regions/iac.zip                                        GET    -   401   200   200   200   200   200   401   401
/api/v1/regions/                                               GET    -   401   200   200   200   200   200   401   401
/api/v1/regions/                                               POST   -   401   403   403   403   403   403   401   401
/api/v1/regions/<slug>/                                        DELETE A   401   403   403   403   403   403   401   401
/api/v1/regions/<slug>/                                        DELETE B   401   403   403   403   403   403   401   401
/api/v1/regions/<slug>/                                        GET    A   401   200   200   200   404   200   401   401
/api/v1/regions/<slug>/                                        GET    B   401   404   404   404   200   200   401   401
/api/v1/regions/<slug>/                                        PATCH  A   401   403   403   403   403   403   401   401
/api/v1/regions/<slug>/                                        PATCH  B   401   403   403   403   403   403   401   401
/api/v1/regions/<slug>/                                        PUT    A   401   403   403   403   403   403   401   401
/api/v1/regions/<slug>/                                        PUT    B   401   403   403   403   403   403   401   401
/api/v1/regions/<slug>/iac/                                    GET    A   401   200   200   200   404   200   401   401
/api/v1/regions/<slug>/iac/                                    GET    B   401   404   404   404   200   200   401   401
/api/v1/regions/<slug>/iac/<name>/                             GET    A   401   200   200   200   404   200   401   401
/api/v1/regions/<slug>/iac/<name>/                             GET    B   401   404   404   404   200   200   401   401
/api/v1/regions/<slug>/iac/<name>                              GET    A   401   200   200   200   404   200   401   401
/api/v1/regions/<slug>/iac/<name>                              GET    B   401   404   404   404   200   200   401   401
/api/v1/regions/<slug>/iac.zip/                                GET    A   401   200   200   200   404   200   401   401
/api/v1/regions/<slug>/iac.zip/                                GET    B   401   404   404   404   200   200   401   401

/api/v1/data-stores/                                           GET    -   401   200   200   200   200   200   401   401
/api/v1/data-stores/                                           POST   A   401   403   403   403   403   403   401   401
/api/v1/data-stores/                                           POST   B   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      DELETE A   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      DELETE B   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      GET    A   401   200   200   200   404   200   401   401
/api/v1/data-stores/<pk>/                                      GET    B   401   404   404   404   200   200   401   401
/api/v1/data-stores/<pk>/                                      PATCH  A   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      PATCH  B   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      PUT    A   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      PUT    B   401   403   403   403   403   403   401   401

/api/v1/key-references/                                        GET    -   401   200   200   200   200   200   401   401
/api/v1/key-references/                                        POST   A   401   403   403   403   403   403   401   401
/api/v1/key-references/                                        POST   B   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   DELETE A   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   DELETE B   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   GET    A   401   200   200   200   404   200   401   401
/api/v1/key-references/<pk>/                                   GET    B   401   404   404   404   200   200   401   401
/api/v1/key-references/<pk>/                                   PATCH  A   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   PATCH  B   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   PUT    A   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   PUT    B   401   403   403   403   403   403   401   401

/api/v1/inference-endpoints/                                   GET    -   401   200   200   200   200   200   401   401
/api/v1/inference-endpoints/                                   POST   A   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/                                   POST   B   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              DELETE A   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              DELETE B   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              GET    A   401   200   200   200   404   200   401   401
/api/v1/inference-endpoints/<pk>/                              GET    B   401   404   404   404   200   200   401   401
/api/v1/inference-endpoints/<pk>/                              PATCH  A   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              PATCH  B   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              PUT    A   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              PUT    B   401   403   403   403   403   403   401   401

/api/v1/residency-rules/                                       GET    -   401   200   200   200   200   200   401   401
/api/v1/residency-rules/                                       POST   A   401   403   403   403   403   403   401   401
/api/v1/residency-rules/                                       POST   B   401   403   403   403   403   403   401   401
/api/v1/residency-rules/<pk>/                                  DELETE A   401   403   403   403   403   403   401   401
/api/v1/residency-rules/<pk>/                                  DELETE B   401   403   403   403   403   403   401   401
/api/v1/residency-rules/<pk>/                                  GET    A   401   200   200   200   404   200   401   401
/api/v1/residency-rules/<pk>/                                  GET    B   401   404   404   404   200   200   401   401
/api/v1/residency-rules/<pk>/                                  PATCH  A   401   403   403   403   403   403   401   401
/api/v1/residency-rules/<pk>/                                  PATCH  B   401   403   403   403   403   403   401   401
/api/v1/residency-rules/<pk>/                                  PUT    A   401   403   403   403   403   403   401   401
/api/v1/residency-rules/<pk>/                                  PUT    B   401   403   403   403   403   403   401   401

/api/v1/jurisdictions/                                         GET    -   401   200   200   200   200   200   401   401
/api/v1/jurisdictions/<code>/                                  GET    -   401   200   200   200   200   200   401   401

/api/v1/countries/                                             GET    -   401   200   200   200   200   200   401   401
/api/v1/countries/<code>/                                      GET    -   401   200   200   200   200   200   401   401

/api/v1/data-categories/                                       GET    -   401   200   200   200   200   200   401   401
/api/v1/data-categories/<key>/                                 GET    -   401   200   200   200   200   200   401   401

/api/v1/                                                       GET    -   401   200   200   200   200   200   401   401

/api/v1/agents/                                                GET    -   401   200   200   200   200   200   401   401
/api/v1/agents/<pk>/                                           GET    A   401   200   200   200   404   200   401   401
/api/v1/agents/<pk>/                                           GET    B   401   404   404   404   200   200   401   401

/api/v1/transfers/evaluate                                     POST   A   401   200   200   200   400   200   401   401
/api/v1/transfers/evaluate                                     POST   B   401   400   400   400   200   200   401   401
/api/v1/transfers/requests/                                    GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/requests/                                    POST   A   401   201*  201*  201*  403   403   401   401
/api/v1/transfers/requests/                                    POST   B   401   403   403   403   201*  403   401   401
/api/v1/transfers/requests/<pk>/                               GET    A   401   200   200   200   404   200   401   401
/api/v1/transfers/requests/<pk>/                               GET    B   401   404   404   404   200   200   401   401
/api/v1/transfers/requests/<pk>/approve/                       POST   A   401   403   403   200*  404   403   401   401
/api/v1/transfers/requests/<pk>/approve/                       POST   B   401   404   404   404   200*  403   401   401
/api/v1/transfers/requests/<pk>/reinstate/                     POST   A   401   403   403   200*  404   403   401   401
/api/v1/transfers/requests/<pk>/reinstate/                     POST   B   401   404   404   404   200*  403   401   401
/api/v1/transfers/requests/<pk>/reject/                        POST   A   401   403   403   200*  404   403   401   401
/api/v1/transfers/requests/<pk>/reject/                        POST   B   401   404   404   404   200*  403   401   401
/api/v1/transfers/requests/<pk>/revoke/                        POST   A   401   403   403   200*  404   403   401   401
/api/v1/transfers/requests/<pk>/revoke/                        POST   B   401   404   404   404   200*  403   401   401
/api/v1/transfers/requests/<pk>/submit/                        POST   A   401   200*  403   403   404   403   401   401
/api/v1/transfers/requests/<pk>/submit/                        POST   B   401   404   404   404   403   403   401   401
/api/v1/transfers/mechanisms/                                  GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/mechanisms/<pk>/                             GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/parties/                                     GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/parties/<pk>/                                GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/records/                                     GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/records/                                     POST   A   401   201*  201*  201*  403   403   401   401
/api/v1/transfers/records/                                     POST   B   401   403   403   403   201*  403   401   401
/api/v1/transfers/records/<pk>/                                GET    A   401   200   200   200   404   200   401   401
/api/v1/transfers/records/<pk>/                                GET    B   401   404   404   404   200   200   401   401

/api/v1/models/                                                GET    -   401   200   200   200   200   200   401   401
/api/v1/models/                                                POST   -   401   403   201*  403   403   403   401   401
/api/v1/models/<str:name>/                                     GET    -   401   200   200   200   200   200   401   401
/api/v1/models/<str:name>/versions/                            GET    -   401   200   200   200   200   200   401   401
/api/v1/models/<str:name>/versions/                            POST   -   401   403   201*  403   403   403   401   401
/api/v1/models/<str:name>/versions/<str:version>/              GET    -   401   200   200   200   200   200   401   401
/api/v1/models/<str:name>/versions/<str:version>/deployments/  GET    -   401   200   200   200   200   200   401   401
/api/v1/models/<str:name>/versions/<str:version>/deployments/  POST   A   401   403   201*  403   403   403   401   401
/api/v1/models/<str:name>/versions/<str:version>/deployments/  POST   B   401   403   403   403   403   403   401   401

/api/v1/deployments/                                           GET    -   401   200   200   200   200   200   401   401
/api/v1/deployments/<int:pk>/                                  GET    A   401   200   200   200   404   200   401   401
/api/v1/deployments/<int:pk>/                                  GET    B   401   404   404   404   200   200   401   401
/api/v1/deployments/<int:pk>/decide/                           POST   A   401   403   403   200*  404   403   401   401
/api/v1/deployments/<int:pk>/decide/                           POST   B   401   404   404   404   200*  403   401   401
/api/v1/deployments/<int:pk>/retire/                           POST   A   401   403   200*  200*  404   403   401   401
/api/v1/deployments/<int:pk>/retire/                           POST   B   401   404   404   404   200*  403   401   401

/api/v1/routing/resolve                                        GET    -   401   400   400   400   400   400   401   401
/api/v1/routing/table                                          GET    -   401   200   200   200   200   200   401   401
/api/v1/routing/exports/<str:name>                             GET    -   401   200   200   200   200   200   401   401
/api/v1/routing/endpoints/                                     GET    -   401   200   200   200   200   200   401   401
/api/v1/routing/endpoints/<pk>/                                GET    A   401   200   200   200   404   200   401   401
/api/v1/routing/endpoints/<pk>/                                GET    B   401   404   404   404   200   200   401   401
/api/v1/routing/endpoints/<pk>/                                PATCH  A   401   403   403   403   404   403   401   401
/api/v1/routing/endpoints/<pk>/                                PATCH  B   401   404   404   404   403   403   401   401
/api/v1/routing/                                               GET    -   401   200   200   200   200   200   401   401

/api/v1/metrics/                                               GET    -   401   200   200   200   200   200   401   401

/api/v1/reports/                                               GET    -   401   200   200   200   200   200   401   401
/api/v1/reports/                                               POST   A   401   403   403   202*  400   403   401   401
/api/v1/reports/                                               POST   B   401   403   403   400   202*  403   401   401
/api/v1/reports/<uuid:pk>/                                     GET    A   401   200   200   200   404   200   401   401
/api/v1/reports/<uuid:pk>/                                     GET    B   401   404   404   404   200   200   401   401
/api/v1/reports/<uuid:pk>/                                     DELETE A   401   403   403   403   404   403   401   401
/api/v1/reports/<uuid:pk>/                                     DELETE B   401   404   404   404   403   403   401   401
/api/v1/reports/<uuid:pk>/download                             GET    A   401   403   403   200   404   200   401   401
/api/v1/reports/<uuid:pk>/download                             GET    B   401   403   403   404   200   200   401   401
/api/v1/exports/<slug:dataset>.<str:fmt>                       GET    -   401   200   200   200   200   200   401   401

/api/schema/                                                   GET    -   200   200   200   200   200   200   200   200

/api/docs/                                                     GET    -   200   200   200   200   200   200   200   200
"""
ADMIN = {  # every admin URL: the admin login page (auditors' writes stop earlier, read-only)
    "GET": "L     L     L     L     L     L     L     L",
    "POST": "L     L     L     L     L     403   L     L",
}
ADMIN_OWN_PAGES = {  # the admin's login and logout (a non-staff logout goes to the admin index)
    ("/admin/login/", "GET"): "200   200   200   200   200   200   200   200",
    ("/admin/login/", "POST"): "200   200   200   200   200   403   200   200",
    ("/admin/logout/", "GET"): "L     302   302   302   302   302   L     L",
    ("/admin/logout/", "POST"): "L     302   302   302   302   403   L     L",
}
# fmt: on


# --- Path parameters: which object each row is called on ----------------------------------


def _shared(values):
    return lambda e, side: values(e)


def _sided(values):
    values.sided = True
    return values


def _region(side):
    return "eu-central" if side == "A" else "us-east"


def _of(attr):
    """The side's ``attr`` (conftest ``_side()``: ``draft``, ``submitted``, ``deployment``...)."""
    return _sided(lambda e, s: {"pk": getattr(e.sides[s], attr).pk})


def _first(related):
    """The side's region's first ``related`` (data stores, keys, endpoints, rules)."""
    return _sided(lambda e, s: {"pk": getattr(e.regions[_region(s)], related).order_by("pk")[0].pk})


def _version(version):
    return _shared(lambda e: {"name": version(e).model.name, "version": version(e).version})


def _to_ask(e):  # a version with no deployment yet: the matrix asks for one
    return e.to_ask


def _to_decide(e):  # a version asked for in both regions
    return e.sides["A"].deployment.version


# A key is a route, or a (route, method) whose calls need another object than its GET's.
PARAMS = {
    "/api/v1/agent/tuf/targets/<slug:region>/<str:name>": _sided(
        lambda e, s: {
            "region": _region(s),
            "name": e.bundles[_region(s)].digest.removeprefix("sha256:") + ".bundle.json",
        }
    ),
    "/api/v1/agent/tuf/<str:name>": _shared(lambda e: {"name": "timestamp.json"}),
    "/regions/<slug:slug>/": _sided(lambda e, s: {"slug": _region(s)}),
    "/regions/<slug:slug>/iac.zip": _sided(lambda e, s: {"slug": _region(s)}),
    "/regions/<slug:slug>/iac/<path:name>": _sided(
        lambda e, s: {"slug": _region(s), "name": "terraform/main.tf"}
    ),
    "/agents/<uuid:pk>/": _sided(lambda e, s: {"pk": e.agents[_region(s)].pk}),
    "/agents/<uuid:pk>/rotate/": _sided(lambda e, s: {"pk": e.agents[_region(s)].pk}),
    "/agents/<uuid:pk>/revoke/": _sided(lambda e, s: {"pk": e.agents[_region(s)].pk}),
    "/transfers/<int:pk>/": _of("submitted"),
    "/transfers/<int:pk>/submit/": _of("draft"),
    "/transfers/<int:pk>/edit/": _of("draft"),
    "/transfers/<int:pk>/delete/": _of("draft"),
    "/transfers/<int:pk>/withdraw/": _of("submitted"),
    "/transfers/<int:pk>/approve/": _of("submitted"),
    "/transfers/<int:pk>/reject/": _of("submitted"),
    "/transfers/<int:pk>/revoke/": _of("approved"),
    "/transfers/<int:pk>/reinstate/": _of("suspended"),
    "/transfers/mechanisms/<int:pk>/": _shared(lambda e: {"pk": e.mechanism.pk}),
    "/models/deployments/<int:pk>/": _of("deployment"),
    "/models/deployments/<int:pk>/decide/": _of("deployment"),
    "/models/deployments/<int:pk>/retire/": _of("deployed"),
    "/models/<str:name>/": _shared(lambda e: {"name": e.version.model.name}),
    "/models/<str:name>/versions/new/": _shared(lambda e: {"name": e.version.model.name}),
    "/models/<str:name>/versions/new/check/": _shared(lambda e: {"name": e.version.model.name}),
    "/models/<str:name>/versions/<str:version>/": _version(lambda e: e.version),
    "/models/<str:name>/versions/<str:version>/lineage/": _version(lambda e: e.version),
    "/models/<str:name>/versions/<str:version>/request/": _version(_to_ask),
    "/inbox/<int:pk>/open/": _of("notice"),
    "/routing/drill/<int:pk>/": _shared(lambda e: {"pk": e.mechanism.pk}),
    "/metrics/regions/<slug:slug>/": _sided(lambda e, s: {"slug": _region(s)}),
    "/metrics/versions/<str:version>/": _sided(
        lambda e, s: {"version": f"fraud-scoring:1.0.0-{_region(s)}"}
    ),
    "/reports/<uuid:pk>/": _of("report"),
    "/reports/<uuid:pk>/row/": _of("report"),
    "/reports/<uuid:pk>/download/": _of("report"),
    "/reports/<uuid:pk>/delete/": _of("report"),
    "/reports/export/<slug:dataset>.<str:fmt>": _shared(
        lambda e: {"dataset": "transfer-register", "fmt": "csv"}
    ),
    "/api/v1/regions/<slug>/": _sided(lambda e, s: {"slug": _region(s)}),
    "/api/v1/regions/<slug>/iac/": _sided(lambda e, s: {"slug": _region(s)}),
    "/api/v1/regions/<slug>/iac/<name>/": _sided(
        lambda e, s: {"slug": _region(s), "name": "terraform/main.tf"}
    ),
    "/api/v1/regions/<slug>/iac/<name>": _sided(
        lambda e, s: {"slug": _region(s), "name": "terraform/terraform.tfvars.json"}
    ),
    "/api/v1/regions/<slug>/iac.zip/": _sided(lambda e, s: {"slug": _region(s)}),
    "/api/v1/data-stores/<pk>/": _first("data_stores"),
    "/api/v1/key-references/<pk>/": _first("keys"),
    "/api/v1/inference-endpoints/<pk>/": _first("endpoints"),
    "/api/v1/residency-rules/<pk>/": _first("residency_rules"),
    "/api/v1/jurisdictions/<code>/": _shared(lambda e: {"code": "EEA"}),
    "/api/v1/countries/<code>/": _shared(lambda e: {"code": "DE"}),
    "/api/v1/data-categories/<key>/": _shared(lambda e: {"key": "user.contact.email"}),
    "/api/v1/agents/<pk>/": _sided(lambda e, s: {"pk": e.agents[_region(s)].pk}),
    "/api/v1/transfers/requests/<pk>/": _of("submitted"),
    "/api/v1/transfers/requests/<pk>/approve/": _of("submitted"),
    "/api/v1/transfers/requests/<pk>/reinstate/": _of("suspended"),
    "/api/v1/transfers/requests/<pk>/reject/": _of("submitted"),
    "/api/v1/transfers/requests/<pk>/revoke/": _of("approved"),
    "/api/v1/transfers/requests/<pk>/submit/": _of("draft"),
    "/api/v1/transfers/mechanisms/<pk>/": _shared(lambda e: {"pk": e.mechanism.pk}),
    "/api/v1/transfers/parties/<pk>/": _shared(lambda e: {"pk": e.mechanism.exporter_id}),
    "/api/v1/transfers/records/<pk>/": _of("record"),
    "/api/v1/models/<str:name>/": _shared(lambda e: {"name": e.version.model.name}),
    "/api/v1/models/<str:name>/versions/": _shared(lambda e: {"name": e.version.model.name}),
    "/api/v1/models/<str:name>/versions/<str:version>/": _version(lambda e: e.version),
    "/api/v1/models/<str:name>/versions/<str:version>/deployments/": _version(_to_decide),
    ("/api/v1/models/<str:name>/versions/<str:version>/deployments/", "POST"): _version(_to_ask),
    "/api/v1/deployments/<int:pk>/": _of("deployment"),
    "/api/v1/deployments/<int:pk>/decide/": _of("deployment"),
    "/api/v1/deployments/<int:pk>/retire/": _of("deployed"),
    "/api/v1/routing/exports/<str:name>": _shared(lambda e: {"name": "gateway.json"}),
    "/api/v1/routing/endpoints/<pk>/": _first("endpoints"),
    "/api/v1/reports/<uuid:pk>/": _of("report"),
    "/api/v1/reports/<uuid:pk>/download": _of("report"),
    "/api/v1/exports/<slug:dataset>.<str:fmt>": _shared(
        lambda e: {"dataset": "transfer-register", "fmt": "json"}
    ),
}


def params_for(route: str, method: str):
    return PARAMS.get((route, method)) or PARAMS.get(route)


def example_for(route: str, method: str):
    return EXAMPLES.get((route, method)) if method != "GET" else None


def sides_of(route: str, method: str) -> tuple[str, ...]:
    """``("A", "B")`` when the URL or the body names a region's things, else ``("-",)``."""
    sided = getattr(params_for(route, method), "sided", False) or getattr(
        example_for(route, method), "sided", False
    )
    return ("A", "B") if sided else ("-",)


ADMIN_VALUES = {
    "object_id": 1,
    "content_type_id": 1,
    "object_pk": 1,
    "user_id": 1,
    "group_id": 1,
    "id": 1,
    "app_label": "auth",
    "url": "no-such-page/",
}


def parse_matrix(text=MATRIX) -> dict[tuple[str, str, str], dict[str, str]]:
    rows = {}
    for line in text.strip().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        route, method, obj, *expected = line.split()
        assert len(expected) == len(ROLES), f"{route} {method}: {len(expected)} columns"
        key = (route, method, obj)
        assert key not in rows, f"{key} is listed twice"
        rows[key] = dict(zip(ROLES, expected, strict=True))
    return rows


# --- The calls ------------------------------------------------------------------------------


def clients(e) -> dict[str, Client]:
    out = {"anon": Client()}
    for role, username in PEOPLE.items():
        out[role] = Client()
        out[role].force_login(e.people[username])
    for role, slug in (("agent_a", "eu-central"), ("agent_b", "us-east")):
        out[role] = Client(HTTP_AUTHORIZATION=f"Bearer {e.tokens[slug]}")
    return out


@dataclass
class Answer:
    response: HttpResponse
    body: str = ""
    wrote: dict = field(default_factory=dict)  # table -> rows inserted, updated, deleted
    effect: tuple | None = None  # the example's effect (before, after), if it has one

    @property
    def effect_changed(self) -> bool:
        return self.effect is not None and self.effect[0] != self.effect[1]


def encode(url: str, method: str, body: dict | None) -> dict:
    """The body as the page's form or the API's JSON; nothing for a GET."""
    if method == "GET":
        return {}
    if url.startswith("/api/"):
        return {"data": json.dumps(body or {}), "content_type": "application/json"}
    return {
        "data": urlencode(body or {}, doseq=True),
        "content_type": "application/x-www-form-urlencoded",
    }


def tuples_written() -> dict[str, tuple[int, int, int]]:
    """Rows inserted, updated and deleted so far in this transaction, per table. PostgreSQL
    counts every attempt, also those of a savepoint rolled back since: what a call wrote is
    the difference before and after it, whatever it rolled back itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t, pg_stat_get_xact_tuples_inserted(t), pg_stat_get_xact_tuples_updated(t),"
            " pg_stat_get_xact_tuples_deleted(t) FROM unnest(%s::oid[]) AS t",
            [list(_tables())],
        )
        names = _tables()
        return {names[t]: (i, u, d) for t, i, u, d in cursor.fetchall() if i or u or d}


@functools.cache
def _tables() -> dict[int, str]:
    """The project's tables by oid, read once (pg_stat_xact_user_tables, which would give the
    same counts, takes four times as long to read on every call)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relid, relname FROM pg_stat_user_tables")
        return dict(cursor.fetchall())


def _difference(before: dict, after: dict) -> dict:
    out = {}
    for table, counts in after.items():
        delta = tuple(x - y for x, y in zip(counts, before.get(table, (0, 0, 0)), strict=True))
        if any(delta):
            out[table] = delta
    return out


def call(client, method, url, body=None, *, effect=None, rollback=True) -> Answer:
    """One call, in a savepoint that is rolled back: no call sees another's writes."""
    kwargs = encode(url, method, body)
    cookies = copy.deepcopy(client.cookies)  # a logout must not sign the role out for good
    if not rollback:
        response = client.generic(method, url, **kwargs)
        client.cookies = cookies
        return Answer(response)
    with transaction.atomic():
        before = tuples_written()
        was = effect() if effect else None
        response = client.generic(method, url, **kwargs)
        answer = Answer(response, read_body(response))
        answer.wrote = _difference(before, tuples_written())
        if effect:
            answer.effect = (was, effect())
        transaction.set_rollback(True)
    client.cookies = cookies
    if answer.wrote:
        reset_caches()  # a write went through (and was rolled back): forget what it cached
    return answer


def read_body(response) -> str:
    if response.streaming:
        raw = b"".join(response.streaming_content)
    else:
        raw = response.content
    if response.get("Content-Type", "").startswith("application/zip"):
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            raw = b"\n".join(archive.read(name) for name in archive.namelist())
    if response.get("Content-Type", "").startswith("application/pdf"):
        return ""
    return raw.decode("utf-8", errors="replace")


def outcome(response) -> str:
    if response.status_code == 302 and re.match(
        r"^(/login/|/admin/login/)", response.get("Location", "")
    ):
        return "L"
    return str(response.status_code)


# Writes that are not the call's doing, or that a refusal makes on purpose.
HEARTBEAT = "regions_agent"  # any call an agent authenticates records its last_seen (an update)
REFUSALS_KEPT = {  # table: why a refused call writes to it
    "metrics_metricrefusal": "a refused metric batch is kept, for the refusals page",
}


def changes(answer: Answer, role: str) -> dict:
    """What the call changed in the database, by table, less what is no one's write."""
    wrote = {t: n for t, n in answer.wrote.items() if t not in REFUSALS_KEPT}
    if role.startswith("agent") and HEARTBEAT in wrote and wrote[HEARTBEAT][::2] == (0, 0):
        del wrote[HEARTBEAT]
    return wrote


def marked(answer: Answer, role: str) -> str:
    """The outcome, with ``*`` when the call changed the database."""
    changed = changes(answer, role) or answer.effect_changed
    return outcome(answer.response) + ("*" if changed else "")


# --- What each side must not see -------------------------------------------------------------


def markers(side_regions: set[str]) -> dict[str, list[re.Pattern]]:
    """Things of ``side_regions`` that only people of those regions may see, by kind."""
    from controlplane.distribution.models import ConfigBundle
    from controlplane.modelregistry.models import DeploymentApproval
    from controlplane.reports.models import Report
    from controlplane.transfers.models import TransferRecord, TransferRequest
    from regions.models import Agent, DataStore, InferenceEndpoint, KeyReference

    def exact(text):
        return re.compile(re.escape(str(text)))

    def number(prefix, pk):
        return re.compile(re.escape(prefix) + str(pk) + r"(?!\d)")

    inside = {"region__slug__in": side_regions}
    source = {"source_region__slug__in": side_regions}
    found = {
        "data store": [exact(s.location_uri) for s in DataStore.objects.filter(**inside)],
        "key reference": [exact(k.uri) for k in KeyReference.objects.filter(**inside)],
        "inference endpoint": [exact(i.url) for i in InferenceEndpoint.objects.filter(**inside)],
        "agent": [exact(a.pk) for a in Agent.objects.filter(**inside)],
        "transfer request": [
            pattern
            for tr in TransferRequest.objects.filter(**source)
            for pattern in (exact(tr.purpose), number("/transfers/", tr.pk), number("TR-", tr.pk))
        ],
        "transfer record": [
            exact(r.idempotency_key)
            for r in TransferRecord.objects.filter(**source)
            if r.idempotency_key
        ],
        "deployment": [
            number("/models/deployments/", d.pk)
            for d in DeploymentApproval.objects.filter(**inside)
        ],
        "report": [
            exact(r.pk)
            for r in Report.objects.all()
            if {x.slug for x in r.regions.all()} <= side_regions
        ],
        "bundle": [
            exact(b.digest.removeprefix("sha256:")) for b in ConfigBundle.objects.filter(**inside)
        ],
    }
    return found


# What an agent is given of other regions, on purpose (docs/security.md): its bundle's routing
# table names the inference endpoints, in any region, that may lawfully serve its users.
AGENTS_SEE = {("/api/v1/agent/tuf/targets/<slug:region>/<str:name>", "inference endpoint")}


# --- The tests -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _quiet_refusals():
    """Thousands of 4xx answers are the point here; only errors are logged."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


def test_every_endpoint_is_in_the_matrix():
    """A URL pattern the table does not list, or lists with methods its view does not allow,
    fails here: a new endpoint cannot escape the matrix."""
    rows = parse_matrix()
    listed = {}
    for route, method, obj in rows:
        listed.setdefault(route, {}).setdefault(method, set()).add(obj)
    problems = []
    seen = set()
    for r in routes():
        seen.add(r.route)
        if r.route.startswith(ADMIN_PREFIX):
            continue
        if r.methods is None:
            problems.append(
                f"{r.route}: the view declares no methods (use require_safe, require_POST or "
                "require_http_methods)"
            )
            continue
        if "<" in r.route and PARAMS.get(r.route) is None:
            problems.append(f"{r.route}: PARAMS does not say which object to call it on")
        for method in sorted(r.methods):
            wanted = set(sides_of(r.route, method))
            got = listed.get(r.route, {}).get(method, set())
            if got != wanted:
                problems.append(
                    f"{r.route} {method}: rows for {sorted(got)}, expected {sorted(wanted)}"
                )
        for method in set(listed.get(r.route, {})) - r.methods:
            problems.append(f"{r.route} {method}: listed, but the view does not allow it")
    for route in set(listed) - seen:
        problems.append(f"{route}: listed, but no such URL pattern")
    assert not problems, "The matrix and the URL configuration disagree:\n" + "\n".join(problems)


def test_every_write_has_an_example():
    """Every write route (POST, PUT, PATCH, DELETE) has a valid body in ``examples.EXAMPLES``,
    or a reason in ``NO_EXAMPLE``: a new write cannot be called with an empty body only."""
    writes = {
        (r.route, method)
        for r in routes()
        if not r.route.startswith(ADMIN_PREFIX)
        for method in (r.methods or ())
        if method != "GET"
    }
    problems = [
        f"{route} {method}: no example body in EXAMPLES and no reason in NO_EXAMPLE"
        for route, method in sorted(writes - set(EXAMPLES) - set(NO_EXAMPLE))
    ]
    problems += [
        f"{route} {method}: in EXAMPLES and NO_EXAMPLE"
        for route, method in set(EXAMPLES) & set(NO_EXAMPLE)
    ]
    problems += [
        f"{route} {method}: listed, but no such write route"
        for route, method in sorted((set(EXAMPLES) | set(NO_EXAMPLE)) - writes)
    ]
    assert not problems, "\n".join(problems)


def _calls(e):
    """Every row: (route, method, obj, url, body, effect), in the URL configuration's order."""
    for r in routes():
        if r.route.startswith(ADMIN_PREFIX) or r.methods is None:
            continue
        for method in sorted(r.methods):
            params = params_for(r.route, method) or _shared(lambda e: {})
            example = example_for(r.route, method)
            for obj in sides_of(r.route, method):
                side = None if obj == "-" else obj
                try:
                    url = url_for(r.route, params(e, side))
                except KeyError as missing:  # reported by test_every_endpoint_is_in_the_matrix
                    yield r.route, method, obj, missing, None, None
                    continue
                body = example.body(e, side) if example else None
                effect = (
                    (lambda x=example, s=side: x.effect(e, s))
                    if example and example.effect
                    else None
                )
                yield r.route, method, obj, url, body, effect


@pytest.mark.postgres
def test_authorization_matrix(security_estate, postgres):
    """Every row as every role: the expected answer, with a valid body for every write; a
    write that changed the database where the table has no ``*``, or none where it has one;
    and nothing of the other region."""
    e = security_estate
    by_role = clients(e)
    rows = parse_matrix()
    hidden = {side: markers(SIDE_REGIONS["B" if side == "A" else "A"]) for side in ("A", "B")}
    mismatches, leaks, observed = [], [], []
    seen_by_owners = {side: set() for side in ("A", "B")}
    for route, method, obj, url, body, effect in _calls(e):
        if isinstance(url, KeyError):
            mismatches.append(f"{route}: no value for {url} in PARAMS")
            continue
        expected = rows.get((route, method, obj), {})
        got = {}
        for role in ROLES:
            answer = call(by_role[role], method, url, body, effect=effect)
            got[role] = marked(answer, role)
            if expected.get(role) not in (None, got[role]):
                wrote = changes(answer, role)
                detail = f" (wrote {wrote})" if wrote else ""
                if answer.effect is not None:
                    detail += f" (effect {answer.effect[0]!r} -> {answer.effect[1]!r})"
                mismatches.append(
                    f"{method} {url} [{obj}] as {role}: {got[role]}, expected {expected[role]}"
                    + detail
                )
            elif expected.get(role, "").endswith("*") and answer.effect is not None:
                if not answer.effect_changed:  # it wrote, but not what the write is for
                    mismatches.append(
                        f"{method} {url} [{obj}] as {role}: wrote {changes(answer, role)}, "
                        f"but its effect stayed {answer.effect[0]!r}"
                    )
            side = SIDE_OF.get(role)
            if side and answer.body:
                for kind, patterns in hidden[side].items():
                    if role.startswith("agent") and (route, kind) in AGENTS_SEE:
                        continue
                    for pattern in patterns:
                        if pattern.search(answer.body):
                            leaks.append(f"{method} {url} as {role} shows {kind} {pattern.pattern}")
                own = hidden["B" if side == "A" else "A"]
                for kind, patterns in own.items():
                    if any(p.search(answer.body) for p in patterns):
                        seen_by_owners[side].add(kind)
        observed.append(
            f"{route:<62} {method:<6} {obj:<3} " + " ".join(f"{got[x]:<5}" for x in ROLES).rstrip()
        )
    if os.environ.get("MATRIX_PRINT"):  # MATRIX_PRINT=1 prints the answers as table rows
        print("\n" + "\n".join(observed))
    missing = [o for o in observed if tuple(o.split()[:3]) not in rows]
    unseen = [  # the markers are real: each side's own people see every kind of them
        f"region {side}'s people never saw their own {kind}"
        for side in ("A", "B")
        for kind in sorted(set(hidden["B" if side == "A" else "A"]) - seen_by_owners[side])
    ]
    problems = [f"not in the table: {o}" for o in missing] + mismatches + leaks + unseen
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


@pytest.mark.postgres
def test_example_bodies_are_valid(security_estate, postgres):
    """A write that no role of the matrix may make (the estate's CRUD, enrolling agents...)
    still gets a valid body: an administrator's call with it succeeds and writes, so the
    matrix's refusals are about who calls, not what they send."""
    e = security_estate
    admin = Client()
    admin.force_login(e.people["admin"])
    made = {  # (route, method) that a role of the matrix makes: the table shows the body works
        (route, method)
        for (route, method, _), expected in parse_matrix().items()
        if any(code[0] in "23" or code.endswith("*") for code in expected.values())
    }
    wrong, checked = [], []
    for route, method, obj, url, body, effect in _calls(e):
        if method in ("GET", "DELETE") or (route, method) not in EXAMPLES:
            continue
        if (route, method) in made:
            continue
        answer = call(admin, method, url, body, effect=effect)
        checked.append(f"{method} {url} [{obj}]: {marked(answer, 'admin')}")
        if not (outcome(answer.response)[0] in "23" and changes(answer, "admin")):
            wrong.append(
                f"{method} {url} [{obj}] as admin: {marked(answer, 'admin')} {answer.body[:300]}"
            )
    assert checked and not wrong, "\n".join(wrong)
    if os.environ.get("MATRIX_PRINT"):
        print("\n" + "\n".join(checked))


@pytest.mark.postgres
def test_admin_site_is_for_staff_only(security_estate, postgres):
    """Every admin URL, GET and POST, as every role of the matrix: the admin login page."""
    by_role = clients(security_estate)
    wrong = []
    for r in routes():
        if not r.route.startswith(ADMIN_PREFIX):
            continue
        url = url_for(r.route, ADMIN_VALUES)
        for method in ("GET", "POST"):
            row = ADMIN_OWN_PAGES.get((r.route, method), ADMIN[method])
            wanted = dict(zip(ROLES, row.split(), strict=True))
            for role in ROLES:
                # No savepoint: no role here is staff, so no admin view runs (the auditor's
                # writes stop in the read-only middleware); the outcome proves it.
                response = call(by_role[role], method, url, rollback=False).response
                if outcome(response) != wanted[role]:
                    wrong.append(f"{method} {url} as {role}: {outcome(response)}")
    assert not wrong, "\n".join(wrong)
