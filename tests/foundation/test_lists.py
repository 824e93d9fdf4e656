"""Every list, page and API alike: one FilterSet, fixed query counts, readable bad values."""

import copy
import itertools
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from controlplane.audit.actors import Actor
from controlplane.audit.services import record_event
from controlplane.modelregistry.models import DeploymentApproval, MLModel
from controlplane.notifications.models import Notice
from controlplane.transfers.models import Mechanism, TransferRecord, TransferRequest
from regions.models import Agent

pytestmark = pytest.mark.django_db

_counter = itertools.count(1)


@pytest.fixture
def demo(full_demo):
    return {u.username: u for u in get_user_model().objects.all()}


def _clone(obj, **changes):
    twin = copy.copy(obj)
    twin.pk = None
    twin.id = None
    twin._state = copy.copy(obj._state)
    twin._state.adding = True
    for field, value in changes.items():
        setattr(twin, field, value)
    twin.save()
    return twin


def _grow(n: int) -> None:
    """``n`` more rows of everything a list shows, with their relations."""
    request = TransferRequest.objects.order_by("pk").first()
    categories = list(request.data_categories.all())
    mechanism = Mechanism.objects.order_by("pk").first()
    record = TransferRecord.objects.order_by("pk").first()
    agent = Agent.objects.order_by("pk").first()
    for _ in range(n):
        i = next(_counter)
        twin = _clone(request, purpose=f"clone {i}")
        twin.data_categories.set(categories)
        _clone(mechanism, key=f"{mechanism.key}-clone-{i}", name=f"{mechanism.name} {i}")
        if record is not None:
            _clone(record, idempotency_key=f"clone-{i}")
        MLModel.objects.create(name=f"clone-{i}", purpose="p", owner_team="t")
        _clone(agent, name=f"{agent.name}-{i}", token_hash=f"{i:064d}", id=uuid.uuid4())
        record_event(actor=Actor.system("test"), action="test.grown", obj=twin, data={"i": i})
        for user in get_user_model().objects.all():
            Notice.objects.create(
                recipient=user, kind="awaiting_decision", title=f"notice {i}", key=f"grown-{i}"
            )
    approval = DeploymentApproval.objects.order_by("pk").first()
    if approval is not None:
        for _ in range(n):
            _clone(approval, status="rejected", is_desired=False)


PAGES = [
    "/transfers/?status=all&q=a&ordering=-submitted&special=no",
    "/transfers/mine/?ordering=status",
    "/transfers/mechanisms/?q=e&kind=adequacy&ordering=-ends",
    "/transfers/records/?violations=0&ordering=-volume",
    "/models/?q=e&ordering=-name",
    "/models/deployments/?status=all&ordering=-requested",
    "/agents/?ordering=-seen&refusing=no",
    "/regions/?q=e&ordering=-slug",
    "/audit/?actor=s&ordering=-when",
    "/inbox/?state=unread&ordering=-created&q=notice",
]
APIS = [
    "/api/v1/transfers/requests/?status=all&ordering=-submitted",
    "/api/v1/transfers/mechanisms/?q=e&ordering=-ends",
    "/api/v1/transfers/records/?ordering=-volume",
    "/api/v1/models/?q=e&ordering=name",
    "/api/v1/deployments/?status=all&ordering=-requested",
    "/api/v1/agents/?ordering=-seen",
    "/api/v1/regions/?q=e&ordering=slug",
]


def _queries(client, url, who) -> int:
    client.force_login(who)
    client.get(url)  # warm the per-process caches (content types, sessions)
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, (url, response.content[:300])
    return len(context.captured_queries)


@pytest.mark.parametrize("url", PAGES + APIS)
def test_list_queries_do_not_grow_with_rows_or_filters(demo, client, url):
    _grow(1)  # a few rows of everything (an empty page skips its row query)
    for who in ("auditor", "dpo-eu"):
        small = _queries(client, url, demo[who])
        _grow(8)
        assert _queries(client, url, demo[who]) == small, (url, who)


def _rows(html: str, marker: str) -> list[str]:
    found = []
    for chunk in html.split(marker)[1:]:
        found.append(chunk.split('"', 1)[0])
    return found


def test_page_and_api_with_the_same_parameters_show_the_same_rows(demo, client):
    auditor = demo["auditor"]
    client.force_login(auditor)
    api = APIClient()
    api.force_authenticate(auditor)
    query = "?status=all&ordering=-created&q=e"
    page = client.get("/transfers/" + query).content.decode()
    listed = api.get("/api/v1/transfers/requests/" + query + "&limit=50").json()["results"]
    assert listed, "the demo has requests matching 'e'"
    assert _rows(page, 'data-request="') == [str(r["id"]) for r in listed]
    query = "?q=japan&ordering=name"
    page = client.get("/transfers/mechanisms/" + query).content.decode()
    listed = api.get("/api/v1/transfers/mechanisms/" + query).json()["results"]
    assert [m["key"] for m in listed] == _rows(page, 'data-mechanism="')
    assert any(m["to_country"] == "JP" for m in listed)


def test_mechanisms_found_by_country_name_and_decision_number_grouped_by_regime(demo, client):
    client.force_login(demo["auditor"])
    sccs = client.get("/transfers/mechanisms/?q=2021/914").content.decode()
    keys = _rows(sccs, 'data-mechanism="')
    expected = set(
        Mechanism.objects.filter(kind="scc", scc_decision="2021/914").values_list("key", flat=True)
    ) | set(Mechanism.objects.filter(reference__contains="2021/914").values_list("key", flat=True))
    assert keys and set(keys) == expected
    assert not any(key.startswith(("ch-adequacy", "eu-adequacy")) for key in keys)
    everything = client.get("/transfers/mechanisms/").content.decode()
    regimes = _rows(everything, 'data-regime="')
    assert len(regimes) == len(set(regimes)) >= 2  # each regime one group, once


@pytest.mark.parametrize(
    "url,field",
    [
        ("/transfers/?status=maybe", "status"),
        ("/transfers/records/?since=yesterday", "since"),
        ("/regions/?provider=ibm", "provider"),
        ("/api/v1/transfers/requests/?region=atlantis", "region"),
        ("/api/v1/deployments/?status=lost", "status"),
        ("/api/v1/agents/?ordering=shoe-size", "ordering"),
    ],
)
def test_a_bad_filter_value_answers_a_readable_400(demo, client, url, field):
    client.force_login(demo["dpo-eu"])
    response = client.get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        body = response.json()
        assert f"({field})" in body["detail"] and field in body["filters"]
        assert body["detail"].startswith("Check the filters:")
    else:
        assert f"({field})" in response.content.decode()


def test_a_dpo_cannot_filter_into_a_region_they_do_not_see(demo, client):
    client.force_login(demo["dpo-eu"])
    response = client.get("/api/v1/transfers/requests/?region=us-east")
    assert response.status_code == 400  # us-east is not one of their choices
    assert "(region)" in response.json()["detail"]
