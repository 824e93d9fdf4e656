from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import module_has_submodule

from regions.demo import DEMO_PASSWORD, PEOPLE


class Command(BaseCommand):
    help = (
        "Load the demo estate (regions, stores, keys, rules, one user per role) and each app's "
        "demo data. Idempotent: a second run changes nothing."
    )

    def handle(self, *args, **options):
        seeded = []
        with transaction.atomic():
            for app in apps.get_app_configs():
                if module_has_submodule(app.module, "demo"):
                    import_module(f"{app.name}.demo").seed()
                    seeded.append(app.label)
        self.stdout.write(f"Demo data in place ({', '.join(seeded)}).")
        self.stdout.write(
            f"Demo logins (password {DEMO_PASSWORD!r}): " + ", ".join(p[0] for p in PEOPLE)
        )
