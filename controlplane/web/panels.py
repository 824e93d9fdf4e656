"""Pages that several apps contribute to.

An app adds a panel in its ``AppConfig.ready()``: a callable ``(request[, region]) ->
Panel | None``. The dashboard and the region page render the panels in order,
each with its own template, so no page has to know every app.
"""

from dataclasses import dataclass, field


@dataclass
class Panel:
    title: str
    template: str
    context: dict = field(default_factory=dict)
    order: int = 100


dashboard_panels: list = []  # callables (request) -> Panel | None
region_panels: list = []  # callables (request, region) -> Panel | None


def render_panels(providers, *args) -> list[Panel]:
    panels = [panel for provider in providers if (panel := provider(*args)) is not None]
    return sorted(panels, key=lambda p: p.order)
