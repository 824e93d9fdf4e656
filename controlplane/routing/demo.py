"""Demo routing facts for ``seed_demo``: every region's scoring endpoint keeps its inference
logs in its own event lake, serves the models deployed there, and says what its requests carry.
Idempotent: an endpoint that already has a log store is left as it is."""

from controlplane.audit.actors import Actor
from controlplane.modelregistry.models import MLModel
from controlplane.routing.models import ServedModel
from regions.models import DataCategory, InferenceEndpoint

SEED = Actor.system("seed_demo")

LATENCY_HINTS = {"eu-central": 20, "eu-west": 25, "uk-south": 30, "us-east": 90}
INPUT_CATEGORIES = ["user.contact.email", "user.name"]
SERVED = ["fraud-scoring", "fraud-global", "support-intent"]


def seed() -> None:
    from django.db import transaction

    from controlplane.audit.services import record_event

    categories = list(DataCategory.objects.filter(key__in=INPUT_CATEGORIES))
    models = list(MLModel.objects.filter(name__in=SERVED))
    endpoints = InferenceEndpoint.objects.select_related("region").filter(
        name="scoring", log_store__isnull=True
    )
    for endpoint in endpoints:
        store = endpoint.region.data_stores.filter(name="event-lake").first()
        if store is None:
            continue
        with transaction.atomic():
            endpoint.log_store = store
            endpoint.latency_hint_ms = LATENCY_HINTS.get(endpoint.region.slug)
            endpoint.full_clean()
            endpoint.save()
            endpoint.input_categories.set(categories)
            for model in models:
                ServedModel.objects.get_or_create(endpoint=endpoint, model=model)
            record_event(
                actor=SEED,
                action="inferenceendpoint.routing_changed",
                obj=endpoint,
                data={
                    "log_store": store.name,
                    "latency_hint_ms": endpoint.latency_hint_ms,
                    "input_categories": INPUT_CATEGORIES,
                    "models": sorted(m.name for m in models),
                },
            )
