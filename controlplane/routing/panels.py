"""Routing's section on each region's page: which user jurisdictions are served here, and why."""

from controlplane.routing import selectors
from controlplane.web.panels import Panel


def region_panel(request, region):
    table = selectors.routing_table()
    served = []
    for code in sorted(table.routes):
        for position, route in enumerate(table.routes[code], start=1):
            if route["region"] == region.slug:
                served.append({"jurisdiction": code, "position": position, **route})
    return Panel(
        title="Inference routing into this region",
        template="routing/_region_panel.html",
        context={"region": region, "served": served},
        order=30,
    )
