"""Pages that several apps contribute to.

An app adds a panel in its ``AppConfig.ready()``: a callable ``(request[, region]) ->
Panel | None``. The dashboard and the region page render the panels in order,
each with its own template, so no page has to know every app.

A provider marked ``@kept_per_person(seconds, changed_by=[...])`` is computed once per person
and kept in the shared cache: until any of the ``changed_by`` models is saved or deleted (a new
panels generation, after the commit), and never longer than ``seconds`` (what changes by the
clock or by bulk updates, such as agents' drift, is that late at most). One cache read per page
serves all the kept panels.
"""

import logging
from dataclasses import dataclass, field

from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from controlplane import shared_cache

log = logging.getLogger(__name__)

GENERATION_KEY = "web:panels:generation"


@dataclass
class Panel:
    title: str
    template: str
    context: dict = field(default_factory=dict)
    order: int = 100


dashboard_panels: list = []  # callables (request) -> Panel | None
region_panels: list = []  # callables (request, region) -> Panel | None


def kept_per_person(seconds: int, *, changed_by: tuple[str, ...]):
    """Mark a panel provider as kept per person (see the module's docstring)."""

    def mark(provider):
        provider.kept_seconds = seconds
        for label in changed_by:
            model = apps.get_model(label)
            uid = f"web.panels.{label}"
            post_save.connect(_changed, sender=model, dispatch_uid=f"{uid}.save")
            post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}.delete")
        return provider

    return mark


def _changed(**kwargs) -> None:
    """One new panels generation per transaction, after its commit, however many rows."""
    shared_cache.new_generation_after_commit(GENERATION_KEY, "panels")


def render_panels(providers, *args) -> list[Panel]:
    live = [p for p in providers if not getattr(p, "kept_seconds", 0)]
    panels = [panel for provider in live if (panel := provider(*args)) is not None]
    kept = [p for p in providers if getattr(p, "kept_seconds", 0)]
    if kept:
        panels += _kept_panels(kept, *args)
    return sorted(panels, key=lambda p: p.order)


def _kept_panels(providers, request, *args) -> list[Panel]:
    def compute():
        return [panel for provider in providers if (panel := provider(request, *args)) is not None]

    if transaction.get_connection().in_atomic_block:
        return compute()  # what a transaction sees may be rolled back
    try:
        generation = cache.get(GENERATION_KEY, "none")
        names = ",".join(f"{p.__module__}.{p.__name__}" for p in providers)
        scope = ":".join(str(getattr(a, "pk", a)) for a in args)
        key = f"web:panels:{generation}:{request.user.pk}:{scope}:{names}"
        panels = cache.get(key)
    except Exception as exc:  # noqa: BLE001 - a cache that fails: compute the panels
        log.warning("kept panels unavailable, computed: %s", exc)
        return compute()
    if panels is None:
        panels = compute()
        try:
            cache.set(key, panels, min(p.kept_seconds for p in providers))
        except Exception as exc:  # noqa: BLE001
            log.warning("kept panels not stored: %s", exc)
    return panels
