from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "controlplane.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from django.db.models.signals import post_save

        from controlplane.audit.models import AuditEvent
        from controlplane.notifications import registry, services
        from controlplane.notifications.panels import inbox_panel
        from controlplane.web.panels import dashboard_panels

        registry.autodiscover()
        if inbox_panel not in dashboard_panels:
            dashboard_panels.append(inbox_panel)
        post_save.connect(
            services.on_audit_event, sender=AuditEvent, dispatch_uid="notifications-audit"
        )
