"""Load the reference adequacy decisions (EU, UK, Swiss, and the historic Privacy Shield)."""

from django.db import migrations


def load(apps, schema_editor):
    from controlplane.transfers.reference_data import load_reference_mechanisms

    load_reference_mechanisms(
        apps.get_model("transfers", "Mechanism"),
        apps.get_model("regions", "Jurisdiction"),
        apps.get_model("regions", "Country"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("transfers", "0001_initial"),
        ("regions", "0002_reference_data"),
    ]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
