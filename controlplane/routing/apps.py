from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "controlplane.routing"
    label = "routing"
    verbose_name = "Inference routing"

    def ready(self):
        from django.apps import apps

        from controlplane.routing import panels, providers
        from controlplane.web.panels import region_panels
        from regions.services import region_changed_listeners

        if panels.region_panel not in region_panels:
            region_panels.append(panels.region_panel)
        if apps.is_installed("controlplane.distribution"):
            from controlplane.distribution.selectors import register_content_provider

            register_content_provider("routing", providers.routing_for_bundle)
            if providers.routes_may_have_changed not in region_changed_listeners:
                region_changed_listeners.append(providers.routes_may_have_changed)
        if apps.is_installed("controlplane.transfers"):
            from controlplane.transfers.services import mechanism_changed_listeners

            if providers.mechanism_changed not in mechanism_changed_listeners:
                mechanism_changed_listeners.append(providers.mechanism_changed)
