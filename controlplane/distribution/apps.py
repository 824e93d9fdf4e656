from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "controlplane.distribution"
    label = "distribution"
    verbose_name = "Bundle distribution"

    def ready(self):
        from controlplane.distribution import panels, providers, services
        from controlplane.web.panels import dashboard_panels, region_panels
        from regions.services import region_changed_listeners

        # Any estate change that touches a region republishes its bundle once the change commits.
        if services.publish_region_on_commit not in region_changed_listeners:
            region_changed_listeners.append(services.publish_region_on_commit)
        providers.register_installed_providers()
        if panels.dashboard_panel not in dashboard_panels:
            dashboard_panels.append(panels.dashboard_panel)
        if panels.region_panel not in region_panels:
            region_panels.append(panels.region_panel)
