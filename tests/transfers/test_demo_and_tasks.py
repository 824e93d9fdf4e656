"""The demo data hook and the beat task."""

import pytest
from django.core import serializers

from controlplane.audit.models import AuditEvent
from controlplane.transfers import demo, tasks
from controlplane.transfers.models import Mechanism, Party, TransferRecord, TransferRequest

pytestmark = pytest.mark.django_db


def _dump():
    models = [Party, Mechanism, TransferRequest, TransferRecord]
    return [serializers.serialize("json", m.objects.order_by("pk")) for m in models]


def test_demo_seed_is_realistic_and_idempotent(estate):
    demo.seed()
    statuses = dict(TransferRequest.objects.values_list("purpose", "status"))
    assert sorted(statuses.values()) == ["active", "submitted", "submitted", "submitted"]
    # One waits on a condition the approving DPO must confirm (Decision 2002/2/EC: PIPEDA).
    maple = TransferRequest.objects.get(importer__name="Maple Support Inc")
    assert maple.policy_allowed
    assert [c.code for c in maple.conditions_to_confirm] == ["ADEQUACY_SCOPE_UNCONFIRMED"]
    blocked = TransferRequest.objects.get(policy_allowed=False)
    assert blocked.has_special_categories and blocked.status == "submitted"
    assert TransferRecord.objects.filter(violation=True).count() == 1
    # Invalidated by the CJEU (C-311/18), not revoked (issue 17, point 6).
    assert Mechanism.objects.filter(key="eu-us-privacy-shield", status="invalidated").exists()
    first, events = _dump(), AuditEvent.objects.count()
    demo.seed()
    assert _dump() == first and AuditEvent.objects.count() == events


def test_the_beat_task_runs_the_daily_check(estate):
    demo.seed()
    summary = tasks.check_expiries.apply().get()
    # The demo's Sakura SCCs have a TIA made 350 days ago: warned 30 days ahead.
    assert "scc-acme-eu-sakura" in summary["warned"]
    assert AuditEvent.objects.filter(action="mechanism.expiry_warning").exists()
