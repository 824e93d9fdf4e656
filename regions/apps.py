from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "regions"
    verbose_name = "Regions and residency"

    def ready(self):
        from regions import signals  # noqa: F401  (connects the audit receivers)
