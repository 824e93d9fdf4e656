"""Demo metrics settings for ``seed_demo``: us-east adds Laplace noise, eu-central does not.

So the Metrics pages show a region with noise (epsilon 1.0) next to one with suppression only.
Set only while the region has no epsilon, so a second run, or a choice made since, stays.
"""

from controlplane.audit.actors import Actor
from regions.models import Region
from regions.services import estate_object_save

DEMO_EPSILON = {"us-east": 1.0}


def seed() -> None:
    for slug, epsilon in DEMO_EPSILON.items():
        region = Region.objects.filter(slug=slug, metrics_epsilon__isnull=True).first()
        if region is None:
            continue
        region.metrics_epsilon = epsilon
        estate_object_save(instance=region, by=Actor.system("seed_demo"))
