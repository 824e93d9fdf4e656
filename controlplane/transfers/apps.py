from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "controlplane.transfers"
    label = "transfers"
    verbose_name = "Transfer register"

    def ready(self):
        from controlplane.transfers import register

        register.connect_signals()
        from controlplane.transfers.panels import dashboard_panel, requester_panel
        from controlplane.web.panels import dashboard_panels

        for panel in (dashboard_panel, requester_panel):
            if panel not in dashboard_panels:
                dashboard_panels.append(panel)
