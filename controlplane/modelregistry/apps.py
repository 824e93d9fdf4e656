from django.apps import AppConfig, apps


class ModelRegistryConfig(AppConfig):
    name = "controlplane.modelregistry"
    label = "modelregistry"
    verbose_name = "Model registry"

    def ready(self):
        from controlplane.modelregistry import panels, signals  # noqa: F401 - connects guards
        from controlplane.web.panels import dashboard_panels, region_panels

        if panels.dashboard_panel not in dashboard_panels:
            dashboard_panels.append(panels.dashboard_panel)
        if panels.region_panel not in region_panels:
            region_panels.append(panels.region_panel)

        # A transfer that ends can take away the basis of a deployment into its destination.
        from controlplane.modelregistry.services import on_transfers_ended
        from controlplane.transfers.services import transfer_ended_listeners

        if on_transfers_ended not in transfer_ended_listeners:
            transfer_ended_listeners.append(on_transfers_ended)

        # The region's bundle carries its desired model versions (issue 5 reads them from here).
        if apps.is_installed("controlplane.distribution"):
            from controlplane.distribution.selectors import register_content_provider
            from controlplane.modelregistry.selectors import desired_versions_for_region

            register_content_provider("models", desired_versions_for_region)
