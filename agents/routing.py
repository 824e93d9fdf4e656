"""Answering a gateway from the inference routing table: a pure function, standard library only.

The control plane builds the table (``controlplane.routing.policy``) and ships it in every
region's bundle; the control plane's ``GET /api/v1/routing/resolve`` and the agent's
``POST /resolve`` both answer through :func:`resolve`, so a gateway gets the same answer from
either side.

The table holds, per user jurisdiction, the endpoints that may serve it in order, each with its
legal reason. Resolving a country:

* takes its jurisdiction's routes;
* drops a route that rests on a transfer when the transfer does not cover every requested data
  category (adequacy and "same jurisdiction" do not depend on categories);
* keeps only endpoints serving ``model`` when one is named;
* puts endpoints in the user's own country first (stable, so the legal order is kept).

Inputs are exact: a country is two ASCII capitals, a category a dotted taxonomy key.
"""

from __future__ import annotations

import re

TABLE_FORMAT = 1
MAX_CATEGORIES = 20

COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
CATEGORY_RE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+){0,9}$")
MODEL_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")

BASIS_SAME_JURISDICTION = "same_jurisdiction"
BASIS_ADEQUACY = "adequacy"
BASIS_TRANSFER = "transfer"


class RoutingInputError(ValueError):
    """A bad question: names the field, as a 400 does."""

    code = "invalid"

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}


class RoutingTableError(ValueError):
    """The table itself is missing or not of a format this code reads."""

    code = "no_routing_table"

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self)}


def covers(granted, key: str) -> bool:
    """``key`` is one of ``granted`` or below one of them in the dotted taxonomy."""
    if key in granted:
        return True
    parts = key.split(".")
    return any(".".join(parts[:i]) in granted for i in range(1, len(parts)))


def parse_question(country, categories=(), model=None) -> tuple[str, tuple[str, ...], str | None]:
    """Check a gateway's question; raise :class:`RoutingInputError` naming the field."""
    if not isinstance(country, str) or not COUNTRY_RE.fullmatch(country):
        raise RoutingInputError(
            "country", "country must be an ISO 3166-1 alpha-2 code in capitals, e.g. DE."
        )
    if categories is None:
        categories = ()
    if isinstance(categories, str):
        categories = (categories,)
    if not isinstance(categories, list | tuple):
        raise RoutingInputError("category", "category must be a list of data category keys.")
    if len(categories) > MAX_CATEGORIES:
        raise RoutingInputError("category", f"at most {MAX_CATEGORIES} categories.")
    for key in categories:
        if not isinstance(key, str) or not CATEGORY_RE.fullmatch(key):
            raise RoutingInputError(
                "category", f"{key!r} is not a data category key such as user.contact.email."
            )
    if model is not None and (not isinstance(model, str) or not MODEL_RE.fullmatch(model)):
        raise RoutingInputError("model", "model must be a model name such as fraud-scoring.")
    return country, tuple(dict.fromkeys(categories)), model


def resolve(table: dict, country, categories=(), model=None) -> dict:
    """The ordered endpoints that may serve a user from ``country``, with their reasons."""
    country, categories, model = parse_question(country, categories, model)
    if not isinstance(table, dict) or table.get("format") != TABLE_FORMAT:
        raise RoutingTableError("No routing table of a known format is available.")
    jurisdiction = table.get("countries", {}).get(country)
    if jurisdiction is None:
        raise RoutingInputError("country", f"{country} is not a country the table knows.")
    entry = table.get("jurisdictions", {}).get(jurisdiction, {})
    routes = []
    dropped = []
    for route in entry.get("routes", []):
        if route["basis"] == BASIS_TRANSFER:
            granted = frozenset(route.get("covers", ()))
            missing = [c for c in categories if not covers(granted, c)]
            if missing:
                dropped.append(
                    {
                        "endpoint": route["endpoint"],
                        "reason": f"{route['transfer']} does not cover {', '.join(missing)}.",
                    }
                )
                continue
        if model is not None and model not in {m["name"] for m in route.get("models", ())}:
            continue
        routes.append(route)
    # Nearest first: the user's own country, keeping the legal order otherwise.
    routes.sort(key=lambda r: r.get("country") != country)
    return {
        "country": country,
        "jurisdiction": jurisdiction,
        "categories": list(categories),
        "model": model,
        "on": table.get("on"),
        "routes": routes,
        "not_routed": dropped,
        "gap": not routes,
    }
