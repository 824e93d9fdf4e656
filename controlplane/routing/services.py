"""Writes for routing: an endpoint's routing facts and the models it serves, audited."""

from __future__ import annotations

from django.db import transaction

from controlplane.audit.services import record_event
from controlplane.errors import NotAllowed
from controlplane.permissions import can, ensure_may_change
from controlplane.routing.models import ServedModel
from regions import services as region_services
from regions.models import InferenceEndpoint

ROUTING_FIELDS = ("serves_traffic", "priority", "latency_hint_ms", "log_store")


def _facts(endpoint: InferenceEndpoint) -> dict:
    return {
        "serves_traffic": endpoint.serves_traffic,
        "priority": endpoint.priority,
        "latency_hint_ms": endpoint.latency_hint_ms,
        "log_store": endpoint.log_store.name if endpoint.log_store_id else None,
        "input_categories": sorted(endpoint.input_categories.values_list("key", flat=True)),
        "models": sorted(
            ServedModel.objects.filter(endpoint=endpoint).values_list("model__name", flat=True)
        ),
    }


def routing_changed(endpoint: InferenceEndpoint) -> None:
    """Tell the publishers; the routing listener spreads it to every region's bundle."""
    region_services._notify_region_changed(endpoint.region)


def endpoint_routing_update(
    *,
    endpoint: InferenceEndpoint,
    by,
    input_categories=None,
    models=None,
    **changes,
) -> InferenceEndpoint:
    """Change what routing knows about ``endpoint``: ``serves_traffic``, ``priority``,
    ``latency_hint_ms``, ``log_store`` (a data store of its own region), the
    ``input_categories`` its requests carry and the ``models`` it serves."""
    ensure_may_change(by)
    unknown = set(changes) - set(ROUTING_FIELDS)
    if unknown:
        raise ValueError(f"not routing fields: {sorted(unknown)}")
    if not (by.has_perm("regions.change_inferenceendpoint") and can(by, "view", endpoint.region)):
        raise NotAllowed("You may not change this region's inference endpoints.")
    with transaction.atomic():
        endpoint = (
            InferenceEndpoint.objects.select_for_update(of=("self",))
            .select_related("region", "log_store")
            .get(pk=endpoint.pk)
        )
        before = _facts(endpoint)
        for name, value in changes.items():
            setattr(endpoint, name, value)
        endpoint.full_clean()
        endpoint.save()
        if input_categories is not None:
            endpoint.input_categories.set(input_categories)
        if models is not None:
            wanted = {m.pk: m for m in models}
            ServedModel.objects.filter(endpoint=endpoint).exclude(model__in=list(wanted)).delete()
            have = set(
                ServedModel.objects.filter(endpoint=endpoint).values_list("model_id", flat=True)
            )
            for pk, model in wanted.items():
                if pk not in have:
                    served = ServedModel(endpoint=endpoint, model=model)
                    served.full_clean()
                    served.save()
        after = _facts(endpoint)
        diff = {k: {"from": before[k], "to": v} for k, v in after.items() if before[k] != v}
        if diff:
            record_event(
                actor=by, action="inferenceendpoint.routing_changed", obj=endpoint, data=diff
            )
            routing_changed(endpoint)
    return endpoint
