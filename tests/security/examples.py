"""A valid body for every write the authorization matrix makes.

With an empty body most writes stop at validation (400) before authorization is really
exercised: region B's DPO approving region A's request would be refused for a missing field,
and a permission bug on a well-formed approval would pass unnoticed. So each write route
(``(route, method)``, as ``urlconf.routes()`` names it) has here the body that the role allowed
to make it would send: a page's form data or the API's JSON. ``test_every_write_has_an_example``
fails until a new write route has one, or a reason in ``NO_EXAMPLE``.

A body is built for the side of the row (``"A"``: region A's things, ``"B"``: region B's, ``None``
for a row on no region's object), from the package's estate (``conftest.py``). An example is
``sided`` when its body names a region's things although the URL does not (a new transfer
request names its source region): the matrix then calls it for region A and for region B.

``effect`` reads what the write changes (the request's status, the number of reports...): for
the decisions, the matrix checks that it changed for the roles that may make them and for
no one else.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from tests.security.conftest import PASSWORD, SIDES, metrics_batch

Body = Callable[[SimpleNamespace, str | None], dict]


@dataclass(frozen=True)
class Example:
    body: Body
    sided: bool = False
    effect: Callable[[SimpleNamespace, str | None], object] | None = None


def _nothing(e, s) -> dict:
    return {}


NO_INPUT = Example(_nothing)  # the write takes no input: the empty body is the valid one


def _side(e, s) -> SimpleNamespace:
    return e.sides[s]


def _facts(s) -> SimpleNamespace:
    return SIDES[s]


def _party(name) -> int:
    from controlplane.transfers.models import Party

    return Party.objects.values_list("pk", flat=True).get(name=name)


def _ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- Effects: what a write changes ------------------------------------------------------------


def _status(attr):
    """The status of the side's ``attr`` (None once it is deleted)."""

    def effect(e, s):
        obj = getattr(_side(e, s), attr)
        return type(obj).objects.filter(pk=obj.pk).values_list("status", flat=True).first()

    return effect


def _count(model_path, **where):
    def effect(e, s):
        from django.apps import apps

        return apps.get_model(model_path).objects.filter(**where).count()

    return effect


def _agents(e, s):
    """What a status report changes on the agents of both regions."""
    from regions.models import Agent

    return list(
        Agent.objects.filter(pk__in=[a.pk for a in e.agents.values()])
        .order_by("pk")
        .values_list("applied_version", "applied_digest", "software_version", "reported_at")
    )


def _per_region(model_path, field):
    def effect(e, s):
        from django.apps import apps
        from django.db.models import Count

        rows = apps.get_model(model_path).objects.values(field).annotate(n=Count("pk"))
        return sorted((row[field], row["n"]) for row in rows)

    return effect


# --- Bodies -----------------------------------------------------------------------------------


def _request_form(e, s) -> dict:
    """The transfer request form, for a transfer out of the side's region."""
    f = _facts(s)
    return {
        "source_region": _side(e, s).region.pk,
        "destination_country": f.destination,
        "exporter": _party(f.exporter),
        "exporter_role": "controller",
        "importer": _party(f.importer),
        "importer_role": "processor",
        "data_categories": ["user.contact.email"],
        "data_subjects": "customers",
        "purpose": f"Matrix {s}: asked for through the form",
        "frequency": "recurring",
    }


def _request_json(e, s) -> dict:
    f = _facts(s)
    return {
        "source_region": f.region,
        "destination_country": f.destination,
        "exporter": _party(f.exporter),
        "importer": _party(f.importer),
        "data_categories": ["user.contact.email"],
        "data_subjects": "customers",
        "purpose": f"Matrix {s}: asked for through the API",
        "frequency": "recurring",
    }


def _evaluate_json(e, s) -> dict:
    f = _facts(s)
    return {
        "source_region": f.region,
        "destination_country": f.destination,
        "exporter": {"id": _party(f.exporter)},
        "importer": {"id": _party(f.importer)},
        "data_categories": ["user.contact.email"],
        "frequency": "recurring",
    }


def _record_json(e, s) -> dict:
    return {
        "source_region": _facts(s).region,
        "destination_country": _facts(s).destination,
        "categories": ["user.contact.email"],
        "volume": 3,
        "executed_at": _ago(hours=1),
        "idempotency_key": f"matrix-{s.lower()}-new-record",
    }


def _transfer_conditions(attr):
    """The codes an approval (``submitted``) or a reinstatement (``suspended``) must confirm:
    the conditions the approval form, or the reinstatement form, shows."""

    def codes(e, s) -> list[str]:
        from controlplane.decisions import conditions_of
        from controlplane.transfers import services
        from controlplane.transfers.models import TransferRequest

        tr = TransferRequest.objects.get(pk=getattr(_side(e, s), attr).pk)
        if attr == "suspended":
            return [c.code for c in conditions_of(services.current_verdict(tr).findings)]
        return [c.code for c in tr.conditions_to_confirm]

    return codes


def _deployment_conditions(e, s) -> list[str]:
    from controlplane.decisions import conditions_of
    from controlplane.modelregistry import services

    d = _side(e, s).deployment
    return [
        c.code
        for c in conditions_of(
            services.check_deployment(version=d.version, region=d.region).findings
        )
    ]


def _approve_transfer(e, s) -> dict:
    return {"confirmed": _transfer_conditions("submitted")(e, s), "conditions": "Matrix: approved"}


def _reinstate_transfer(e, s) -> dict:
    return {"confirmed": _transfer_conditions("suspended")(e, s)}


def _decide_deployment(e, s) -> dict:
    return {
        "decision": "approve",
        "note": "Matrix: approved",
        "confirmed": _deployment_conditions(e, s),
    }


def _reason(text):
    return lambda e, s: {"reason": f"Matrix: {text}"}


def _credentials(e, s) -> dict:
    return {"username": "requester-a", "password": PASSWORD}


def _version_form(e, s) -> dict:
    return {
        "version": "9.9.9-matrix",
        "digest": "sha256:" + "9" * 64,
        "framework": "matrix",
        "training_mode": "synthetic",
    }


def _version_json(e, s) -> dict:
    return {**_version_form(e, s), "contains_personal_data": False}


def _model(e, s) -> dict:
    return {"name": "matrix-model", "purpose": "Matrix: registered here", "owner_team": "Matrix"}


def _ask_deployment(e, s) -> dict:
    return {"region": _facts(s).region, "justification": f"Matrix {s}: asked for here"}


def _report_form(e, s) -> dict:
    return {
        "kind": "mechanism_inventory",
        "period_start": "2026-01-01",
        "period_end": "2026-01-31",
        "regions": [_side(e, s).region.pk],
    }


def _report_json(e, s) -> dict:
    return {**_report_form(e, s), "regions": [_facts(s).region]}


def _preferences(e, s) -> dict:
    from controlplane.notifications.registry import KINDS

    return {"email": "daily", "wanted": sorted(KINDS)[:1]}


def _drill(e, s) -> dict:
    return {"status": "revoked", "reason": "Matrix: rehearsed", "action": "simulate"}


def _enroll(e, s) -> dict:
    return {
        "region": _side(e, s).region.pk,
        "name": f"matrix-agent-{s.lower()}",
        "poll_interval": 60,
    }


def _agent_status(e, s) -> dict:
    bundle = e.bundles[_facts(s).region]
    return {
        "region": _facts(s).region,
        "applied_version": bundle.version,
        "applied_digest": bundle.digest,
        "agent_version": "matrix-1.0",
        "last_refresh_ok": True,
    }


def _agent_records(e, s) -> dict:
    return {
        "records": [
            {
                "destination_country": "CH",
                "categories": ["user.contact.email"],
                "volume": 3,
                "executed_at": _ago(hours=1),
                "idempotency_key": "matrix-agent-record",
            }
        ]
    }


def _agent_metrics(e, s) -> dict:
    """A batch about a version the side's region runs (another region's is refused)."""
    region = _facts(s).region
    return metrics_batch(f"matrix-new-{region}", {"model_version": f"fraud-scoring:1.0.0-{region}"})


# --- The estate's CRUD (administrators only): bodies made from the side's own object ---------


def _estate(serializer_path, objects, **changes):
    """The serializer's view of the side's object (``objects(e, s)``), with ``changes`` (values
    or functions of the object): a body the API accepts for a new object or a replacement."""

    def body(e, s):
        from django.utils.module_loading import import_string

        obj = objects(e, s)
        data = dict(import_string(serializer_path)(obj).data)
        data.pop("id", None)
        data.update({k: (v(obj) if callable(v) else v) for k, v in changes.items()})
        return data

    return body


def _first(related):
    return lambda e, s: getattr(_side(e, s if s else "A").region, related).order_by("pk")[0]


def _region_of(e, s):
    return _side(e, s if s else "A").region


_SERIALIZERS = "regions.api.serializers."
_REGION = _estate(
    _SERIALIZERS + "RegionSerializer",
    _region_of,
    slug="matrix-new",
    name="Matrix new region",
)
_STORE = _estate(
    _SERIALIZERS + "DataStoreSerializer",
    _first("data_stores"),
    name="matrix-store",
    location_uri=lambda o: o.location_uri.rstrip("/") + "/matrix",
)
_KEY = _estate(
    _SERIALIZERS + "KeyReferenceSerializer",
    _first("keys"),
    name="matrix-key",
    uri=lambda o: o.uri + "-matrix",
)
_ENDPOINT = _estate(
    _SERIALIZERS + "InferenceEndpointSerializer",
    _first("endpoints"),
    name="matrix-endpoint",
    url=lambda o: o.url.rstrip("/") + "/matrix/",
)
_RULE = _estate(
    _SERIALIZERS + "ResidencyRuleSerializer",
    _first("residency_rules"),
    position=lambda o: o.position + 1000,
    contract_tag="matrix",
)


def _estate_examples(route, body):
    """A collection's POST names the side's region; a member's PUT and PATCH change the side's
    object (``PARAMS`` picks it); DELETE takes no body."""
    return {
        (route, "POST"): Example(body, sided=True),
        (route + "<pk>/", "PUT"): Example(body),
        (route + "<pk>/", "PATCH"): Example(body),
        (route + "<pk>/", "DELETE"): NO_INPUT,
    }


EXAMPLES: dict[tuple[str, str], Example] = {
    # The agents' API: the token says the region; the body names that region's things.
    ("/api/v1/agent/status", "POST"): Example(_agent_status, sided=True, effect=_agents),
    ("/api/v1/agent/transfers", "POST"): Example(
        _agent_records, effect=_per_region("transfers.TransferRecord", "source_region__slug")
    ),
    ("/api/v1/agent/metrics", "POST"): Example(
        _agent_metrics, sided=True, effect=_per_region("metrics.MetricBatch", "region__slug")
    ),
    # Pages.
    ("/login/", "POST"): Example(_credentials),
    ("/logout/", "POST"): NO_INPUT,
    ("/agents/enroll/", "POST"): Example(_enroll, sided=True),
    ("/agents/<uuid:pk>/rotate/", "POST"): NO_INPUT,
    ("/agents/<uuid:pk>/revoke/", "POST"): NO_INPUT,
    ("/transfers/new/", "POST"): Example(
        _request_form, sided=True, effect=_count("transfers.TransferRequest")
    ),
    ("/transfers/new/check/", "POST"): Example(_request_form, sided=True),
    ("/transfers/<int:pk>/submit/", "POST"): Example(_nothing, effect=_status("draft")),
    ("/transfers/<int:pk>/edit/", "POST"): Example(_request_form),
    ("/transfers/<int:pk>/delete/", "POST"): Example(_nothing, effect=_status("draft")),
    ("/transfers/<int:pk>/withdraw/", "POST"): Example(
        _reason("withdrawn"), effect=_status("submitted")
    ),
    ("/transfers/<int:pk>/approve/", "POST"): Example(
        _approve_transfer, effect=_status("submitted")
    ),
    ("/transfers/<int:pk>/reject/", "POST"): Example(
        _reason("rejected"), effect=_status("submitted")
    ),
    ("/transfers/<int:pk>/revoke/", "POST"): Example(
        _reason("revoked"), effect=_status("approved")
    ),
    ("/transfers/<int:pk>/reinstate/", "POST"): Example(
        _reinstate_transfer, effect=_status("suspended")
    ),
    ("/models/new/", "POST"): Example(_model),
    ("/models/deployments/<int:pk>/decide/", "POST"): Example(
        _decide_deployment, effect=_status("deployment")
    ),
    ("/models/deployments/<int:pk>/retire/", "POST"): Example(
        _reason("retired"), effect=_status("deployed")
    ),
    ("/models/<str:name>/versions/new/", "POST"): Example(_version_form),
    ("/models/<str:name>/versions/new/check/", "POST"): Example(_version_form),
    ("/models/<str:name>/versions/<str:version>/request/", "POST"): Example(
        _ask_deployment, sided=True, effect=_count("modelregistry.DeploymentApproval")
    ),
    ("/inbox/read/", "POST"): Example(lambda e, s: {"notice": _side(e, s).notice.pk}, sided=True),
    ("/inbox/<int:pk>/open/", "POST"): NO_INPUT,
    ("/inbox/settings/", "POST"): Example(_preferences),
    ("/routing/drill/<int:pk>/", "POST"): Example(_drill),
    ("/reports/", "POST"): Example(_report_form, sided=True, effect=_count("reports.Report")),
    ("/reports/<uuid:pk>/delete/", "POST"): NO_INPUT,
    # The people's API.
    ("/api/v1/auth/token/", "POST"): Example(_credentials),
    ("/api/v1/regions/", "POST"): Example(_REGION),
    ("/api/v1/regions/<slug>/", "PUT"): Example(
        _estate(_SERIALIZERS + "RegionSerializer", _region_of, description="Matrix")
    ),
    ("/api/v1/regions/<slug>/", "PATCH"): Example(lambda e, s: {"description": "Matrix"}),
    ("/api/v1/regions/<slug>/", "DELETE"): NO_INPUT,
    **_estate_examples("/api/v1/data-stores/", _STORE),
    **_estate_examples("/api/v1/key-references/", _KEY),
    **_estate_examples("/api/v1/inference-endpoints/", _ENDPOINT),
    **_estate_examples("/api/v1/residency-rules/", _RULE),
    ("/api/v1/transfers/evaluate", "POST"): Example(_evaluate_json, sided=True),
    ("/api/v1/transfers/requests/", "POST"): Example(
        _request_json, sided=True, effect=_count("transfers.TransferRequest")
    ),
    ("/api/v1/transfers/requests/<pk>/approve/", "POST"): Example(
        _approve_transfer, effect=_status("submitted")
    ),
    ("/api/v1/transfers/requests/<pk>/reinstate/", "POST"): Example(
        _reinstate_transfer, effect=_status("suspended")
    ),
    ("/api/v1/transfers/requests/<pk>/reject/", "POST"): Example(
        _reason("rejected"), effect=_status("submitted")
    ),
    ("/api/v1/transfers/requests/<pk>/revoke/", "POST"): Example(
        _reason("revoked"), effect=_status("approved")
    ),
    ("/api/v1/transfers/requests/<pk>/submit/", "POST"): Example(_nothing, effect=_status("draft")),
    ("/api/v1/transfers/records/", "POST"): Example(
        _record_json, sided=True, effect=_count("transfers.TransferRecord")
    ),
    ("/api/v1/models/", "POST"): Example(_model),
    ("/api/v1/models/<str:name>/versions/", "POST"): Example(_version_json),
    ("/api/v1/models/<str:name>/versions/<str:version>/deployments/", "POST"): Example(
        _ask_deployment, sided=True, effect=_count("modelregistry.DeploymentApproval")
    ),
    ("/api/v1/deployments/<int:pk>/decide/", "POST"): Example(
        _decide_deployment, effect=_status("deployment")
    ),
    ("/api/v1/deployments/<int:pk>/retire/", "POST"): Example(
        _reason("retired"), effect=_status("deployed")
    ),
    ("/api/v1/routing/endpoints/<pk>/", "PATCH"): Example(lambda e, s: {"priority": 7}),
    ("/api/v1/reports/", "POST"): Example(
        _report_json, sided=True, effect=_count("reports.Report")
    ),
    ("/api/v1/reports/<uuid:pk>/", "DELETE"): NO_INPUT,
}

# Write routes without a valid body, and why.
NO_EXAMPLE: dict[tuple[str, str], str] = {
    ("/login/", "PUT"): "Django reads a form from a POST only: a PUT's form is always empty",
}
# Django's admin site (/admin/...): no role of the matrix is staff, so no admin view runs;
# test_admin_site_is_for_staff_only calls each of its URLs instead.
ADMIN_PREFIX = "/admin/"
