"""The seed catalogue (controlplane.metrics.catalogue.SEED), in every database."""

from django.db import migrations


def seed(apps, schema_editor):
    from controlplane.metrics.catalogue import SEED

    MetricDefinition = apps.get_model("metrics", "MetricDefinition")
    for d in SEED:
        MetricDefinition.objects.update_or_create(
            name=d.name,
            defaults={
                "unit": d.unit,
                "kind": d.kind,
                "description": d.description,
                "dimensions": d.dimensions,
                "dimension_sets": [list(s) for s in d.dimension_sets],
                "minimum": d.minimum,
                "maximum": d.maximum,
                "observe": d.observe,
                "quantile": d.quantile,
            },
        )


def unseed(apps, schema_editor):
    from controlplane.metrics.catalogue import SEED

    apps.get_model("metrics", "MetricDefinition").objects.filter(
        name__in=[d.name for d in SEED]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("metrics", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
