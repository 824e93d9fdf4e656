from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "controlplane.routing"
    label = "routing"
    verbose_name = "Inference routing"

    def ready(self):
        from controlplane.routing import panels
        from controlplane.web.panels import region_panels

        if panels.region_panel not in region_panels:
            region_panels.append(panels.region_panel)
