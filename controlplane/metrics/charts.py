"""Server-side SVG charts (pygal): the one place charts are drawn, for pages and PDF reports.

Every function returns an ``<svg>`` element as a string, with no XML declaration, no script
and no external reference, so it can be inlined in HTML (``{{ svg|safe }}``) and in
WeasyPrint's PDF alike. The k threshold and epsilon are written into the chart itself.

* ``line_chart(title=, unit=, lines={label: [(datetime, value)]}, note=)`` draws anything.
* ``region_chart(region=, metric=, since=, until=)``: one metric of one region, a line per
  model version (or per refusal reason, or the total).
* ``model_version_chart(version=, metric=, regions=, since=, until=)``: one model version's
  metric in each region, a line per region, side by side over time.

Callers pass regions already narrowed by ``controlplane.permissions.restrict()``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

import pygal
from pygal.style import Style

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    opacity="1",
    opacity_hover="1",
    colors=("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    title_font_size=15,
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    value_font_size=11,
    tooltip_font_size=12,
    no_data_font_size=16,
)


def privacy_note(*, k: int | None, epsilon: float | None) -> str:
    parts = []
    if k is not None:
        parts.append(f"cells below k={k} suppressed in the region")
    parts.append(f"Laplace noise, epsilon={epsilon:g}" if epsilon else "no noise (epsilon unset)")
    return "; ".join(parts)


def _time_format(lines: Mapping) -> str:
    times = [t for points in lines.values() for t, _ in points]
    if times and (max(times) - min(times)).days >= 2:
        return "%d %b"
    return "%H:%M"


def line_chart(
    *,
    title: str,
    unit: str,
    lines: Mapping[str, Sequence[tuple[datetime, float]]],
    note: str = "",
    width: int = 720,
    height: int = 340,
) -> str:
    """An SVG line chart over time; an empty one says nothing was released (yet, or below k)."""
    fmt = _time_format(lines)
    chart = pygal.DateTimeLine(
        js=[],
        disable_xml_declaration=True,
        explicit_size=True,
        width=width,
        height=height,
        style=STYLE,
        show_dots=True,
        dots_size=2,
        stroke_style={"width": 2},
        x_label_rotation=0,
        truncate_legend=40,
        legend_at_bottom=True,
        legend_at_bottom_columns=2,
        x_value_formatter=lambda d: d.strftime(fmt),
        value_formatter=lambda v: f"{v:,.4g} {unit}",
        no_data_text="Nothing released yet",
        x_title=note or None,
        y_title=unit,
        margin=12,
    )
    chart.title = title
    for label in sorted(lines):
        points = sorted(lines[label])
        if points:
            chart.add(label, [(t, v) for t, v in points])
    return _static(chart.render(is_unicode=True))


SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
COMMENT = re.compile(r"<!--.*?-->", re.S)


def _static(svg: str) -> str:
    """pygal embeds its tooltip config as a script and credits in comments: keep the drawing."""
    return COMMENT.sub("", SCRIPT.sub("", svg))


def region_chart(
    *,
    region,
    metric: str,
    since: datetime,
    until: datetime | None = None,
    width: int = 720,
    height: int = 340,
) -> str:
    """One metric of one region, a line per model version (or refusal reason, or 'all')."""
    from controlplane.metrics import selectors
    from regions.models import Region

    definition = selectors.MetricDefinition.objects.get(name=metric)
    split = _split_dimension(definition)
    found = selectors.series(
        regions=Region.objects.filter(pk=region.pk),
        metric=metric,
        since=since,
        until=until,
        split=split,
    )
    lines = dict(found[region.pk].lines) if region.pk in found else {}
    return line_chart(
        title=f"{metric} in {region.slug}",
        unit=definition.unit,
        lines=lines,
        note=privacy_note(k=region.metrics_k, epsilon=region.metrics_epsilon),
        width=width,
        height=height,
    )


def model_version_chart(
    *,
    version: str,
    metric: str,
    regions,
    since: datetime,
    until: datetime | None = None,
    width: int = 720,
    height: int = 340,
) -> str:
    """One model version's metric, a line per region, side by side over time."""
    from controlplane.metrics import selectors

    definition = selectors.MetricDefinition.objects.get(name=metric)
    regions = list(regions)
    found = selectors.series(
        regions=[r.pk for r in regions],
        metric=metric,
        since=since,
        until=until,
        model_version=version,
        split="model_version",
    )
    slugs = {r.pk: r for r in regions}
    lines = {}
    for region_id, s in found.items():
        for points in s.lines.values():
            lines[slugs[region_id].slug] = points
    ks = sorted({r.metrics_k for r in regions if r.pk in found})
    epsilons = sorted({r.metrics_epsilon or 0 for r in regions if r.pk in found})
    note = "k=" + "/".join(map(str, ks)) if ks else ""
    if epsilons:
        note += "; epsilon=" + "/".join(f"{e:g}" if e else "none" for e in epsilons)
    return line_chart(
        title=f"{metric} of {version}",
        unit=definition.unit,
        lines=lines,
        note=note,
        width=width,
        height=height,
    )


def _split_dimension(definition) -> str:
    for dimension_set in definition.dimension_sets:
        if len(dimension_set) == 1:
            return dimension_set[0]
    return ""
