from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "controlplane.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from controlplane.audit import logins  # noqa: F401  (connects the sign-in receivers)
