from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "controlplane.web"
    label = "web"
    verbose_name = "Web UI"

    def ready(self):
        # The project's Celery app, configured from these settings, so that `.delay()` in any
        # Django process (web, tests, management commands) sends to the configured broker.
        # Created here rather than in controlplane/__init__.py, so importing a pure module of
        # the package loads neither Django nor Celery.
        from controlplane import (
            celery,  # noqa: F401
            people,
        )

        people.connect_signals()
