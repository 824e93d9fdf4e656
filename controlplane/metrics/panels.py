"""The region page's metrics panel: k, epsilon and a link to the region's charts."""

from controlplane.metrics import selectors
from controlplane.web.panels import Panel


def region_panel(request, region):
    return Panel(
        title="Metrics",
        template="metrics/_region_panel.html",
        context={"region": region, "has_points": selectors.has_points(region)},
        order=60,
    )
