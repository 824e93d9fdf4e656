from django.apps import AppConfig, apps


class MetricsConfig(AppConfig):
    name = "controlplane.metrics"
    label = "metrics"
    verbose_name = "Metrics"

    def ready(self):
        from controlplane.metrics import panels
        from controlplane.web.panels import region_panels

        if panels.region_panel not in region_panels:
            region_panels.append(panels.region_panel)
        # The region's bundle carries the catalogue, k and epsilon (the "metrics" part).
        if apps.is_installed("controlplane.distribution"):
            from controlplane.distribution.selectors import register_content_provider
            from controlplane.metrics.selectors import bundle_metrics

            register_content_provider("metrics", bundle_metrics)
