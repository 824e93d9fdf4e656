"""The authorization matrix: every page and API operation, called as every role.

The rows come from the URL configuration (``urlconf.routes()``), so a new endpoint cannot
escape: ``test_every_endpoint_is_in_the_matrix`` fails until the table below says what each
role gets from it. Each row is a route, an HTTP method the view allows, the object it is
called on (``A``: one of region A's, ``B``: one of region B's, ``-``: none or a shared one)
and the expected answer per role. ``L`` is a redirect to a login page; other codes are HTTP
statuses. POSTs carry an empty body (a form for pages, ``{}`` for the API): the matrix asks
who may, not whether the input is good (a 400 means "allowed, and told what is missing").

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
import io
import logging
import os
import re
import zipfile

import pytest
from django.db import transaction
from django.test import Client

from tests.security.conftest import SIDE_REGIONS, reset_caches
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
/api/v1/agent/status                                           POST   -   401   401   401   401   401   401   200   200
/api/v1/agent/transfers                                        POST   -   401   401   401   401   401   401   400   400
/api/v1/agent/metrics                                          POST   -   401   401   401   401   401   401   400   400

/                                                              GET    -   L     200   200   200   200   200   L     L

/favicon.ico                                                   GET    -   301   301   301   301   301   301   301   301

/login/                                                        GET    -   200   302   302   302   302   302   200   200
/login/                                                        POST   -   200   302   302   302   302   302   200   200
/login/                                                        PUT    -   200   302   302   302   302   302   200   200

/logout/                                                       POST   -   L     L     L     L     L     L     L     L

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
/agents/enroll/                                                POST   -   L     403   403   403   403   403   L     L
/agents/<uuid:pk>/                                             GET    A   L     200   200   200   404   200   L     L
/agents/<uuid:pk>/                                             GET    B   L     404   404   404   200   200   L     L
/agents/<uuid:pk>/rotate/                                      POST   A   L     403   403   403   403   403   L     L
/agents/<uuid:pk>/rotate/                                      POST   B   L     403   403   403   403   403   L     L
/agents/<uuid:pk>/revoke/                                      POST   A   L     403   403   403   403   403   L     L
/agents/<uuid:pk>/revoke/                                      POST   B   L     403   403   403   403   403   L     L

/transfers/                                                    GET    -   L     302   302   200   200   200   L     L
/transfers/mine/                                               GET    -   L     200   200   200   200   200   L     L
/transfers/new/                                                GET    -   L     200   200   200   200   200   L     L
/transfers/new/                                                POST   -   L     200   200   200   200   403   L     L
/transfers/new/check/                                          POST   -   L     200   200   200   200   403   L     L
/transfers/<int:pk>/                                           GET    A   L     200   200   200   404   200   L     L
/transfers/<int:pk>/                                           GET    B   L     404   404   404   200   200   L     L
/transfers/<int:pk>/submit/                                    POST   A   L     302   403   403   404   403   L     L
/transfers/<int:pk>/submit/                                    POST   B   L     404   404   404   403   403   L     L
/transfers/<int:pk>/edit/                                      GET    A   L     200   403   403   404   403   L     L
/transfers/<int:pk>/edit/                                      GET    B   L     404   404   404   403   403   L     L
/transfers/<int:pk>/edit/                                      POST   A   L     200   403   403   404   403   L     L
/transfers/<int:pk>/edit/                                      POST   B   L     404   404   404   403   403   L     L
/transfers/<int:pk>/delete/                                    POST   A   L     302   403   403   404   403   L     L
/transfers/<int:pk>/delete/                                    POST   B   L     404   404   404   403   403   L     L
/transfers/<int:pk>/withdraw/                                  POST   A   L     302   403   403   404   403   L     L
/transfers/<int:pk>/withdraw/                                  POST   B   L     404   404   404   403   403   L     L
/transfers/<int:pk>/approve/                                   POST   A   L     403   403   302   404   403   L     L
/transfers/<int:pk>/approve/                                   POST   B   L     404   404   404   302   403   L     L
/transfers/<int:pk>/reject/                                    POST   A   L     403   403   302   404   403   L     L
/transfers/<int:pk>/reject/                                    POST   B   L     404   404   404   302   403   L     L
/transfers/<int:pk>/revoke/                                    POST   A   L     403   403   302   404   403   L     L
/transfers/<int:pk>/revoke/                                    POST   B   L     404   404   404   302   403   L     L
/transfers/<int:pk>/reinstate/                                 POST   A   L     403   403   302   404   403   L     L
/transfers/<int:pk>/reinstate/                                 POST   B   L     404   404   404   302   403   L     L
/transfers/mechanisms/                                         GET    -   L     200   200   200   200   200   L     L
/transfers/mechanisms/<int:pk>/                                GET    -   L     200   200   200   200   200   L     L
/transfers/mechanisms/<int:pk>/end/                            POST   -   L     403   403   400   403   403   L     L
/transfers/records/                                            GET    -   L     200   200   200   200   200   L     L

/models/                                                       GET    -   L     200   200   200   200   200   L     L
/models/new/                                                   GET    -   L     403   200   403   403   403   L     L
/models/new/                                                   POST   -   L     403   200   403   403   403   L     L
/models/deployments/                                           GET    -   L     200   200   200   200   200   L     L
/models/deployments/<int:pk>/                                  GET    A   L     200   200   200   404   200   L     L
/models/deployments/<int:pk>/                                  GET    B   L     404   404   404   200   200   L     L
/models/deployments/<int:pk>/decide/                           POST   A   L     403   403   400   404   403   L     L
/models/deployments/<int:pk>/decide/                           POST   B   L     404   404   404   400   403   L     L
/models/deployments/<int:pk>/retire/                           POST   A   L     403   409   409   404   403   L     L
/models/deployments/<int:pk>/retire/                           POST   B   L     404   404   404   302   403   L     L
/models/<str:name>/                                            GET    -   L     200   200   200   200   200   L     L
/models/<str:name>/versions/new/                               GET    -   L     403   200   403   403   403   L     L
/models/<str:name>/versions/new/                               POST   -   L     403   200   403   403   403   L     L
/models/<str:name>/versions/new/check/                         POST   -   L     403   200   403   403   403   L     L
/models/<str:name>/versions/<str:version>/                     GET    -   L     200   200   200   200   200   L     L
/models/<str:name>/versions/<str:version>/lineage/             GET    -   L     200   200   200   200   200   L     L
/models/<str:name>/versions/<str:version>/request/             POST   -   L     403   302   403   403   403   L     L

/inbox/                                                        GET    -   L     200   200   200   200   200   L     L
/inbox/read/                                                   POST   -   L     302   302   302   302   403   L     L
/inbox/<int:pk>/open/                                          POST   A   L     302   302   302   302   403   L     L
/inbox/<int:pk>/open/                                          POST   B   L     302   302   302   302   403   L     L
/inbox/settings/                                               GET    -   L     200   200   200   200   200   L     L
/inbox/settings/                                               POST   -   L     200   200   200   200   403   L     L

/routing/                                                      GET    -   L     200   200   200   200   200   L     L
/routing/endpoints/                                            GET    -   L     200   200   200   200   200   L     L
/routing/drill/<int:pk>/                                       GET    -   L     200   200   200   200   200   L     L
/routing/drill/<int:pk>/                                       POST   -   L     403   403   400   403   403   L     L

/metrics/                                                      GET    -   L     200   200   200   200   200   L     L
/metrics/regions/<slug:slug>/                                  GET    A   L     200   200   200   404   200   L     L
/metrics/regions/<slug:slug>/                                  GET    B   L     404   404   404   200   200   L     L
/metrics/versions/<str:version>/                               GET    A   L     200   200   200   404   200   L     L
/metrics/versions/<str:version>/                               GET    B   L     404   404   404   200   200   L     L
/metrics/refusals/                                             GET    -   L     403   403   200   200   200   L     L

/reports/                                                      GET    -   L     200   200   200   200   200   L     L
/reports/                                                      POST   -   L     403   403   200   200   403   L     L
/reports/<uuid:pk>/                                            GET    A   L     200   200   200   404   200   L     L
/reports/<uuid:pk>/                                            GET    B   L     404   404   404   200   200   L     L
/reports/<uuid:pk>/row/                                        GET    A   L     200   200   200   404   200   L     L
/reports/<uuid:pk>/row/                                        GET    B   L     404   404   404   200   200   L     L
/reports/<uuid:pk>/download/                                   GET    A   L     403   403   200   404   200   L     L
/reports/<uuid:pk>/download/                                   GET    B   L     403   403   404   200   200   L     L
/reports/<uuid:pk>/delete/                                     POST   A   L     403   403   403   404   403   L     L
/reports/<uuid:pk>/delete/                                     POST   B   L     404   404   404   403   403   L     L
/reports/export/<slug:dataset>.<str:fmt>                       GET    -   L     200   200   200   200   200   L     L

/api/v1/auth/token/                                            POST   -   400   400   400   400   400   400   400   400

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
/api/v1/data-stores/                                           POST   -   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      DELETE A   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      DELETE B   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      GET    A   401   200   200   200   404   200   401   401
/api/v1/data-stores/<pk>/                                      GET    B   401   404   404   404   200   200   401   401
/api/v1/data-stores/<pk>/                                      PATCH  A   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      PATCH  B   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      PUT    A   401   403   403   403   403   403   401   401
/api/v1/data-stores/<pk>/                                      PUT    B   401   403   403   403   403   403   401   401

/api/v1/key-references/                                        GET    -   401   200   200   200   200   200   401   401
/api/v1/key-references/                                        POST   -   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   DELETE A   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   DELETE B   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   GET    A   401   200   200   200   404   200   401   401
/api/v1/key-references/<pk>/                                   GET    B   401   404   404   404   200   200   401   401
/api/v1/key-references/<pk>/                                   PATCH  A   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   PATCH  B   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   PUT    A   401   403   403   403   403   403   401   401
/api/v1/key-references/<pk>/                                   PUT    B   401   403   403   403   403   403   401   401

/api/v1/inference-endpoints/                                   GET    -   401   200   200   200   200   200   401   401
/api/v1/inference-endpoints/                                   POST   -   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              DELETE A   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              DELETE B   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              GET    A   401   200   200   200   404   200   401   401
/api/v1/inference-endpoints/<pk>/                              GET    B   401   404   404   404   200   200   401   401
/api/v1/inference-endpoints/<pk>/                              PATCH  A   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              PATCH  B   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              PUT    A   401   403   403   403   403   403   401   401
/api/v1/inference-endpoints/<pk>/                              PUT    B   401   403   403   403   403   403   401   401

/api/v1/residency-rules/                                       GET    -   401   200   200   200   200   200   401   401
/api/v1/residency-rules/                                       POST   -   401   403   403   403   403   403   401   401
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

/api/v1/transfers/evaluate                                     POST   -   401   400   400   400   400   400   401   401
/api/v1/transfers/requests/                                    GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/requests/                                    POST   -   401   400   400   400   400   403   401   401
/api/v1/transfers/requests/<pk>/                               GET    A   401   200   200   200   404   200   401   401
/api/v1/transfers/requests/<pk>/                               GET    B   401   404   404   404   200   200   401   401
/api/v1/transfers/requests/<pk>/approve/                       POST   A   401   403   403   200   404   403   401   401
/api/v1/transfers/requests/<pk>/approve/                       POST   B   401   404   404   404   400   403   401   401
/api/v1/transfers/requests/<pk>/reinstate/                     POST   A   401   403   403   409   404   403   401   401
/api/v1/transfers/requests/<pk>/reinstate/                     POST   B   401   404   404   404   409   403   401   401
/api/v1/transfers/requests/<pk>/reject/                        POST   A   401   403   403   400   404   403   401   401
/api/v1/transfers/requests/<pk>/reject/                        POST   B   401   404   404   404   400   403   401   401
/api/v1/transfers/requests/<pk>/revoke/                        POST   A   401   403   403   400   404   403   401   401
/api/v1/transfers/requests/<pk>/revoke/                        POST   B   401   404   404   404   400   403   401   401
/api/v1/transfers/requests/<pk>/submit/                        POST   A   401   200   403   403   404   403   401   401
/api/v1/transfers/requests/<pk>/submit/                        POST   B   401   404   404   404   403   403   401   401
/api/v1/transfers/mechanisms/                                  GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/mechanisms/<pk>/                             GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/parties/                                     GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/parties/<pk>/                                GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/records/                                     GET    -   401   200   200   200   200   200   401   401
/api/v1/transfers/records/                                     POST   -   401   400   400   400   400   403   401   401
/api/v1/transfers/records/<pk>/                                GET    A   401   200   200   200   404   200   401   401
/api/v1/transfers/records/<pk>/                                GET    B   401   404   404   404   200   200   401   401

/api/v1/models/                                                GET    -   401   200   200   200   200   200   401   401
/api/v1/models/                                                POST   -   401   403   400   403   403   403   401   401
/api/v1/models/<str:name>/                                     GET    -   401   200   200   200   200   200   401   401
/api/v1/models/<str:name>/versions/                            GET    -   401   200   200   200   200   200   401   401
/api/v1/models/<str:name>/versions/                            POST   -   401   403   400   403   403   403   401   401
/api/v1/models/<str:name>/versions/<str:version>/              GET    -   401   200   200   200   200   200   401   401
/api/v1/models/<str:name>/versions/<str:version>/deployments/  GET    -   401   200   200   200   200   200   401   401
/api/v1/models/<str:name>/versions/<str:version>/deployments/  POST   -   401   403   400   403   403   403   401   401

/api/v1/deployments/                                           GET    -   401   200   200   200   200   200   401   401
/api/v1/deployments/<int:pk>/                                  GET    A   401   200   200   200   404   200   401   401
/api/v1/deployments/<int:pk>/                                  GET    B   401   404   404   404   200   200   401   401
/api/v1/deployments/<int:pk>/decide/                           POST   A   401   403   403   400   404   403   401   401
/api/v1/deployments/<int:pk>/decide/                           POST   B   401   404   404   404   400   403   401   401
/api/v1/deployments/<int:pk>/retire/                           POST   A   401   403   409   409   404   403   401   401
/api/v1/deployments/<int:pk>/retire/                           POST   B   401   404   404   404   200   403   401   401

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
    "/transfers/<int:pk>/": _sided(
        lambda e, s: {"pk": (e.requests.a_submitted if s == "A" else e.requests.b_submitted).pk}
    ),
    "/transfers/<int:pk>/submit/": _sided(
        lambda e, s: {"pk": (e.requests.a_draft if s == "A" else e.requests.b_draft).pk}
    ),
    "/transfers/<int:pk>/edit/": _sided(
        lambda e, s: {"pk": (e.requests.a_draft if s == "A" else e.requests.b_draft).pk}
    ),
    "/transfers/<int:pk>/delete/": _sided(
        lambda e, s: {"pk": (e.requests.a_draft if s == "A" else e.requests.b_draft).pk}
    ),
    "/transfers/<int:pk>/withdraw/": _sided(
        lambda e, s: {"pk": (e.requests.a_submitted if s == "A" else e.requests.b_submitted).pk}
    ),
    "/transfers/<int:pk>/approve/": _sided(
        lambda e, s: {"pk": (e.requests.a_submitted if s == "A" else e.requests.b_submitted).pk}
    ),
    "/transfers/<int:pk>/reject/": _sided(
        lambda e, s: {"pk": (e.requests.a_submitted if s == "A" else e.requests.b_submitted).pk}
    ),
    "/transfers/<int:pk>/revoke/": _sided(
        lambda e, s: {"pk": (e.requests.a_submitted if s == "A" else e.requests.b_submitted).pk}
    ),
    "/transfers/<int:pk>/reinstate/": _sided(
        lambda e, s: {"pk": (e.requests.a_submitted if s == "A" else e.requests.b_submitted).pk}
    ),
    "/transfers/mechanisms/<int:pk>/": _shared(lambda e: {"pk": e.mechanism.pk}),
    "/transfers/mechanisms/<int:pk>/end/": _shared(lambda e: {"pk": e.mechanism.pk}),
    "/models/deployments/<int:pk>/": _sided(
        lambda e, s: {"pk": (e.deployments.a if s == "A" else e.deployments.b).pk}
    ),
    "/models/deployments/<int:pk>/decide/": _sided(
        lambda e, s: {"pk": (e.deployments.a if s == "A" else e.deployments.b).pk}
    ),
    "/models/deployments/<int:pk>/retire/": _sided(
        lambda e, s: {"pk": (e.deployments.a if s == "A" else e.deployments.b).pk}
    ),
    "/models/<str:name>/": _shared(lambda e: {"name": e.version.model.name}),
    "/models/<str:name>/versions/new/": _shared(lambda e: {"name": e.version.model.name}),
    "/models/<str:name>/versions/new/check/": _shared(lambda e: {"name": e.version.model.name}),
    "/models/<str:name>/versions/<str:version>/": _shared(
        lambda e: {"name": e.version.model.name, "version": e.version.version}
    ),
    "/models/<str:name>/versions/<str:version>/lineage/": _shared(
        lambda e: {"name": e.version.model.name, "version": e.version.version}
    ),
    "/models/<str:name>/versions/<str:version>/request/": _shared(
        lambda e: {"name": e.version.model.name, "version": e.version.version}
    ),
    "/inbox/<int:pk>/open/": _sided(
        lambda e, s: {"pk": (e.notices.a if s == "A" else e.notices.b).pk}
    ),
    "/routing/drill/<int:pk>/": _shared(lambda e: {"pk": e.mechanism.pk}),
    "/metrics/regions/<slug:slug>/": _sided(lambda e, s: {"slug": _region(s)}),
    "/metrics/versions/<str:version>/": _sided(
        lambda e, s: {"version": f"fraud-scoring:1.0.0-{_region(s)}"}
    ),
    "/reports/<uuid:pk>/": _sided(lambda e, s: {"pk": (e.reports.a if s == "A" else e.reports.b).pk}),
    "/reports/<uuid:pk>/row/": _sided(
        lambda e, s: {"pk": (e.reports.a if s == "A" else e.reports.b).pk}
    ),
    "/reports/<uuid:pk>/download/": _sided(
        lambda e, s: {"pk": (e.reports.a if s == "A" else e.reports.b).pk}
    ),
    "/reports/<uuid:pk>/delete/": _sided(
        lambda e, s: {"pk": (e.reports.a if s == "A" else e.reports.b).pk}
    ),
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
    "/api/v1/data-stores/<pk>/": _sided(
        lambda e, s: {"pk": e.regions[_region(s)].data_stores.order_by("pk")[0].pk}
    ),
    "/api/v1/key-references/<pk>/": _sided(
        lambda e, s: {"pk": e.regions[_region(s)].keys.order_by("pk")[0].pk}
    ),
    "/api/v1/inference-endpoints/<pk>/": _sided(
        lambda e, s: {"pk": e.regions[_region(s)].endpoints.order_by("pk")[0].pk}
    ),
    "/api/v1/residency-rules/<pk>/": _sided(
        lambda e, s: {"pk": e.regions[_region(s)].residency_rules.order_by("pk")[0].pk}
    ),
    "/api/v1/jurisdictions/<code>/": _shared(lambda e: {"code": "EEA"}),
    "/api/v1/countries/<code>/": _shared(lambda e: {"code": "DE"}),
    "/api/v1/data-categories/<key>/": _shared(lambda e: {"key": "user.contact.email"}),
    "/api/v1/agents/<pk>/": _sided(lambda e, s: {"pk": e.agents[_region(s)].pk}),
    "/api/v1/transfers/requests/<pk>/": _sided(
        lambda e, s: {"pk": (e.requests.a_submitted if s == "A" else e.requests.b_submitted).pk}
    ),
    "/api/v1/transfers/requests/<pk>/approve/": _sided(
        lambda e, s: {"pk": (e.requests.a_submitted if s == "A" else e.requests.b_submitted).pk}
    ),
    "/api/v1/transfers/requests/<pk>/reinstate/": _sided(
        lambda e, s: {"pk": (e.requests.a_submitted if s == "A" else e.requests.b_submitted).pk}
    ),
    "/api/v1/transfers/requests/<pk>/reject/": _sided(
        lambda e, s: {"pk": (e.requests.a_submitted if s == "A" else e.requests.b_submitted).pk}
    ),
    "/api/v1/transfers/requests/<pk>/revoke/": _sided(
        lambda e, s: {"pk": (e.requests.a_submitted if s == "A" else e.requests.b_submitted).pk}
    ),
    "/api/v1/transfers/requests/<pk>/submit/": _sided(
        lambda e, s: {"pk": (e.requests.a_draft if s == "A" else e.requests.b_draft).pk}
    ),
    "/api/v1/transfers/mechanisms/<pk>/": _shared(lambda e: {"pk": e.mechanism.pk}),
    "/api/v1/transfers/parties/<pk>/": _shared(
        lambda e: {"pk": e.mechanism.exporter_id}
    ),
    "/api/v1/transfers/records/<pk>/": _sided(
        lambda e, s: {"pk": (e.records.a if s == "A" else e.records.b).pk}
    ),
    "/api/v1/models/<str:name>/": _shared(lambda e: {"name": e.version.model.name}),
    "/api/v1/models/<str:name>/versions/": _shared(lambda e: {"name": e.version.model.name}),
    "/api/v1/models/<str:name>/versions/<str:version>/": _shared(
        lambda e: {"name": e.version.model.name, "version": e.version.version}
    ),
    "/api/v1/models/<str:name>/versions/<str:version>/deployments/": _shared(
        lambda e: {"name": e.version.model.name, "version": e.version.version}
    ),
    "/api/v1/deployments/<int:pk>/": _sided(
        lambda e, s: {"pk": (e.deployments.a if s == "A" else e.deployments.b).pk}
    ),
    "/api/v1/deployments/<int:pk>/decide/": _sided(
        lambda e, s: {"pk": (e.deployments.a if s == "A" else e.deployments.b).pk}
    ),
    "/api/v1/deployments/<int:pk>/retire/": _sided(
        lambda e, s: {"pk": (e.deployments.a if s == "A" else e.deployments.b).pk}
    ),
    "/api/v1/routing/exports/<str:name>": _shared(lambda e: {"name": "gateway.json"}),
    "/api/v1/routing/endpoints/<pk>/": _sided(
        lambda e, s: {"pk": e.regions[_region(s)].endpoints.order_by("pk")[0].pk}
    ),
    "/api/v1/exports/<slug:dataset>.<str:fmt>": _shared(
        lambda e: {"dataset": "transfer-register", "fmt": "json"}
    ),
}
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


def call(client, method, url, *, rollback=True):
    """One call, in a savepoint that is rolled back: no call sees another's writes."""
    kwargs = {}
    if method != "GET":
        if url.startswith("/api/"):
            kwargs = {"data": "{}", "content_type": "application/json"}
        else:
            kwargs = {"data": "", "content_type": "application/x-www-form-urlencoded"}
    cookies = copy.deepcopy(client.cookies)  # a logout must not sign the role out for good
    if not rollback:
        response = client.generic(method, url, **kwargs)
        client.cookies = cookies
        return response, ""
    with transaction.atomic():
        response = client.generic(method, url, **kwargs)
        body = read_body(response)
        transaction.set_rollback(True)
    client.cookies = cookies
    if method != "GET" and response.status_code < 400 and outcome(response) != "L":
        reset_caches()  # a write went through (and was rolled back): forget what it cached
    return response, body


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
            exact(b.digest.removeprefix("sha256:"))
            for b in ConfigBundle.objects.filter(**inside)
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
        if r.route.startswith("/admin/"):
            continue
        if r.methods is None:
            problems.append(
                f"{r.route}: the view declares no methods (use require_safe, require_POST or "
                "require_http_methods)"
            )
            continue
        params = PARAMS.get(r.route)
        if "<" in r.route and params is None:
            problems.append(f"{r.route}: PARAMS does not say which object to call it on")
        wanted = {"A", "B"} if getattr(params, "sided", False) else {"-"}
        for method in sorted(r.methods):
            got = listed.get(r.route, {}).get(method, set())
            if got != wanted:
                problems.append(f"{r.route} {method}: rows for {sorted(got)}, expected {sorted(wanted)}")
        for method in set(listed.get(r.route, {})) - r.methods:
            problems.append(f"{r.route} {method}: listed, but the view does not allow it")
    for route in set(listed) - seen:
        problems.append(f"{route}: listed, but no such URL pattern")
    assert not problems, "The matrix and the URL configuration disagree:\n" + "\n".join(problems)


@pytest.mark.postgres
def test_authorization_matrix(security_estate, postgres):
    """Every row as every role: the expected answer, and nothing of the other region."""
    e = security_estate
    by_role = clients(e)
    rows = parse_matrix()
    hidden = {side: markers(SIDE_REGIONS["B" if side == "A" else "A"]) for side in ("A", "B")}
    mismatches, leaks, observed = [], [], []
    seen_by_owners = {side: set() for side in ("A", "B")}
    for r in routes():
        if r.route.startswith("/admin/") or r.methods is None:
            continue
        params = PARAMS.get(r.route, _shared(lambda e: {}))
        sides = ("A", "B") if getattr(params, "sided", False) else ("-",)
        for method in sorted(r.methods):
            for obj in sides:
                try:
                    url = url_for(r.route, params(e, obj if obj != "-" else None))
                except KeyError as missing:  # reported by test_every_endpoint_is_in_the_matrix
                    mismatches.append(f"{r.route}: no value for {missing} in PARAMS")
                    continue
                expected = rows.get((r.route, method, obj), {})
                got = {}
                for role in ROLES:
                    response, body = call(by_role[role], method, url)
                    got[role] = outcome(response)
                    if expected.get(role) not in (None, got[role]):
                        mismatches.append(
                            f"{method} {url} as {role}: {got[role]}, expected {expected[role]}"
                        )
                    side = SIDE_OF.get(role)
                    if side and body:
                        for kind, patterns in hidden[side].items():
                            if role.startswith("agent") and (r.route, kind) in AGENTS_SEE:
                                continue
                            for pattern in patterns:
                                if pattern.search(body):
                                    leaks.append(
                                        f"{method} {url} as {role} shows {kind} {pattern.pattern}"
                                    )
                        own = hidden["B" if side == "A" else "A"]
                        for kind, patterns in own.items():
                            if any(p.search(body) for p in patterns):
                                seen_by_owners[side].add(kind)
                    if not expected:
                        pass
                observed.append(
                    f"{r.route:<62} {method:<6} {obj:<3} "
                    + " ".join(f"{got[x]:<5}" for x in ROLES).rstrip()
                )
    if os.environ.get("MATRIX_PRINT"):  # MATRIX_PRINT=1 prints the answers as table rows
        print("\n" + "\n".join(observed))
    missing = [o for o in observed if tuple(o.split()[:3]) not in rows]
    unseen = [  # the markers are real: each side's own people see every kind of them
        f"region {side}'s people never saw their own {kind}"
        for side in ("A", "B")
        for kind in sorted(set(hidden["B" if side == "A" else "A"]) - seen_by_owners[side])
    ]
    problems = (
        [f"not in the table: {o}" for o in missing] + mismatches + leaks + unseen
    )
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


@pytest.mark.postgres
def test_admin_site_is_for_staff_only(security_estate, postgres):
    """Every admin URL, GET and POST, as every role of the matrix: the admin login page."""
    by_role = clients(security_estate)
    wrong = []
    for r in routes():
        if not r.route.startswith("/admin/"):
            continue
        url = url_for(r.route, ADMIN_VALUES)
        for method in ("GET", "POST"):
            row = ADMIN_OWN_PAGES.get((r.route, method), ADMIN[method])
            wanted = dict(zip(ROLES, row.split(), strict=True))
            for role in ROLES:
                # No savepoint: no role here is staff, so no admin view runs (the auditor's
                # writes stop in the read-only middleware); the outcome proves it.
                response, _ = call(by_role[role], method, url, rollback=False)
                if outcome(response) != wanted[role]:
                    wrong.append(f"{method} {url} as {role}: {outcome(response)}")
    assert not wrong, "\n".join(wrong)
