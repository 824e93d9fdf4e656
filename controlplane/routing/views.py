"""The routing matrix page: user jurisdictions x regions, the reason in each cell."""

from django.shortcuts import render

from controlplane.routing import selectors


def _rows(table, regions):
    """One row per user jurisdiction; jurisdictions whose cells carry the same footing are
    shown as one row (the 200-odd jurisdictions with no regime modelled and no route)."""
    groups: dict[tuple, dict] = {}
    for code in sorted(table.cells):
        row = table.cells[code]
        cells = [row[r.slug] for r in regions]
        routes = table.routes[code]
        signature = (
            tuple((c.basis, c.code, c.mechanism, c.transfer) for c in cells),
            tuple(r["endpoint"] for r in routes),
        )
        group = groups.get(signature)
        if group is None:
            groups[signature] = {
                "jurisdictions": [code],
                "names": [table.jurisdiction_names.get(code, code)],
                "cells": cells,
                "routes": routes,
                "gap": not routes,
            }
        else:
            group["jurisdictions"].append(code)
            group["names"].append(table.jurisdiction_names.get(code, code))
    return sorted(groups.values(), key=lambda g: (len(g["jurisdictions"]) > 3, g["jurisdictions"]))


def matrix(request):
    table = selectors.routing_table()
    visible = selectors.visible_region_slugs(request.user)
    regions = [r for r in table.regions if visible is None or r.slug in visible]
    scoped = selectors.scoped(table.as_dict(), visible)
    rows = _rows(table, regions)
    for row in rows:
        row["routes"] = [r for r in row["routes"] if visible is None or r["region"] in visible]
        row["routes_elsewhere"] = bool(
            visible is not None and len(row["routes"]) < len(table.routes[row["jurisdictions"][0]])
        )
    return render(
        request,
        "routing/matrix.html",
        {
            "table": table,
            "regions": regions,
            "rows": rows,
            "gap_count": sum(len(r["jurisdictions"]) for r in rows if r["gap"]),
            "unroutable": scoped["unroutable"],
            "scope": scoped["scope"],
        },
    )
