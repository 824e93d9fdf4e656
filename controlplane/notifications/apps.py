from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "controlplane.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from controlplane.audit.signals import event_recorded
        from controlplane.notifications import registry, services
        from controlplane.notifications.panels import inbox_panel
        from controlplane.web.panels import dashboard_panels

        registry.autodiscover()
        if inbox_panel not in dashboard_panels:
            dashboard_panels.append(inbox_panel)
        event_recorded.connect(services.on_audit_events, dispatch_uid="notifications-audit")
