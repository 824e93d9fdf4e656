"""The mechanism inventory's expiry timeline, as SVG (a pure function: no ORM, no I/O).

SVG renders the same in the browser and in WeasyPrint, so the UI and the PDF can share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

MARKERS = {"ends": "#b91c1c", "review": "#1d4ed8", "tia": "#b45309"}


@dataclass(frozen=True)
class TimelineItem:
    label: str
    valid_from: date
    ends_on: date | None = None
    review_on: date | None = None
    tia_until: date | None = None


def _months_between(start: date, end: date):
    current = date(start.year, start.month, 1)
    while current <= end:
        yield current
        current = date(current.year + (current.month == 12), current.month % 12 + 1, 1)


def expiry_timeline_svg(
    items: list[TimelineItem], *, today: date, months_before: int = 6, months_after: int = 36
) -> str:
    """Horizontal bars from validity start to end, with review and TIA marks, around ``today``."""
    start = date(today.year, today.month, 1) - timedelta(days=months_before * 30)
    start = date(start.year, start.month, 1)
    end = today + timedelta(days=months_after * 30)
    width, label_w, row_h, top = 1000, 290, 16, 34
    plot_w = width - label_w - 20
    height = top + row_h * max(1, len(items)) + 28
    span = (end - start).days or 1

    def x(day: date) -> float:
        day = min(max(day, start), end)
        return label_w + plot_w * (day - start).days / span

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="Report Sans, DejaVu Sans, sans-serif" '
        'font-size="10" role="img" aria-label="Mechanism expiry timeline">'
    ]
    for month in _months_between(start, end):
        mx = x(month)
        major = month.month == 1
        out.append(
            f'<line x1="{mx:.1f}" y1="{top - 6}" x2="{mx:.1f}" y2="{height - 24}" '
            f'stroke="{"#9aa3ad" if major else "#e2e6ea"}" stroke-width="{1 if major else 0.5}"/>'
        )
        if major or month == date(start.year, start.month, 1):
            out.append(f'<text x="{mx + 2:.1f}" y="{top - 10}" fill="#36404d">{month:%Y}</text>')
    tx = x(today)
    out.append(
        f'<line x1="{tx:.1f}" y1="{top - 20}" x2="{tx:.1f}" y2="{height - 24}" '
        'stroke="#1c2430" stroke-width="1.2" stroke-dasharray="3,2"/>'
        f'<text x="{tx + 3:.1f}" y="{top - 22}" fill="#1c2430">today {today:%Y-%m-%d}</text>'
    )
    for i, item in enumerate(items):
        y = top + i * row_h
        label = item.label if len(item.label) <= 48 else item.label[:47] + "…"
        out.append(f'<text x="0" y="{y + 11}" fill="#1c2430">{escape(label)}</text>')
        bar_end = item.ends_on or end
        colour = "#fca5a5" if item.ends_on and item.ends_on <= today else "#bfdbfe"
        out.append(
            f'<rect x="{x(item.valid_from):.1f}" y="{y + 3}" '
            f'width="{max(1.0, x(bar_end) - x(item.valid_from)):.1f}" height="{row_h - 6}" '
            f'fill="{colour}"/>'
        )
        for kind, day in (
            ("review", item.review_on),
            ("tia", item.tia_until),
            ("ends", item.ends_on),
        ):
            if day and start <= day <= end:
                mx = x(day)
                out.append(
                    f'<path d="M{mx:.1f},{y + 1} l4,6 l-4,6 l-4,-6 z" fill="{MARKERS[kind]}"/>'
                )
    ly = height - 8
    legend = [("ends", "ends"), ("review", "review due"), ("tia", "TIA lapses")]
    lx = label_w
    for kind, text in legend:
        out.append(
            f'<path d="M{lx:.1f},{ly - 9} l4,6 l-4,6 l-4,-6 z" fill="{MARKERS[kind]}"/>'
            f'<text x="{lx + 7:.1f}" y="{ly + 1}" fill="#36404d">{text}</text>'
        )
        lx += 110
    out.append(
        f'<rect x="{lx:.1f}" y="{ly - 8}" width="18" height="9" fill="#bfdbfe"/>'
        f'<text x="{lx + 22:.1f}" y="{ly + 1}" fill="#36404d">valid</text>'
    )
    out.append("</svg>")
    return "".join(out)
