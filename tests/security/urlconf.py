"""Every URL pattern of the project, as the authorization matrix lists it.

``routes()`` walks ``get_resolver()`` recursively and gives each pattern's route in a readable
form (``/transfers/<int:pk>/``, ``/api/v1/regions/<slug>/iac/``: regex groups become
``<name>``) and the HTTP methods its view allows: a DRF viewset's actions, a class-based view's
handlers, or the methods a function view declares with ``require_http_methods`` (``require_POST``,
``require_safe``). A function view that declares none answers every method, which the matrix
refuses: it must say what it accepts.
"""

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    route: str  # "/transfers/<int:pk>/"
    callback: object
    name: str | None

    @property
    def methods(self) -> frozenset[str] | None:
        """The methods the view allows, or None when a function view declares none."""
        return allowed_methods(self.callback)


def readable(pattern) -> str:
    text = str(pattern)
    if text.startswith("^"):
        text = text[1:]
    if text.endswith("$"):
        text = text[:-1]
    return _GROUP.sub(r"<\1>", text).replace("\\.", ".")


def routes() -> list[Route]:
    found = []

    def walk(resolver, prefix):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                walk(entry, prefix + readable(entry.pattern))
            elif isinstance(entry, URLPattern):
                found.append(Route("/" + prefix + readable(entry.pattern), entry.callback, entry.name))

    walk(get_resolver(), "")
    return found


def declared_methods(func) -> frozenset[str] | None:
    """What ``require_http_methods`` (and its shortcuts) allows, found in its closure."""
    while func is not None:
        code = getattr(func, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = func.__closure__[code.co_freevars.index("request_method_list")]
            return frozenset(m for m in cell.cell_contents if m in METHODS)
        func = getattr(func, "__wrapped__", None)
    return None


def allowed_methods(callback) -> frozenset[str] | None:
    actions = getattr(callback, "actions", None)
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if actions:  # a DRF viewset's route: method -> action, within the view's method names
        names = {m.upper() for m in view_class.http_method_names}
        return frozenset(m.upper() for m in actions if m.upper() in METHODS and m.upper() in names)
    if view_class is not None:
        names = {m.upper() for m in view_class.http_method_names}
        return frozenset(m for m in METHODS if m in names and hasattr(view_class, m.lower()))
    return declared_methods(callback)


def url_for(route: str, values: dict) -> str:
    """Fill ``<conv:name>`` and ``<name>`` with ``values``; a format suffix's ``/?`` is dropped."""

    def fill(match):
        name = match.group(1).split(":")[-1]
        return str(values[name])

    return re.sub(r"<([\w:]+)>", fill, route).replace("/?", "")
