"""The API's routers: a detail URL matches only what its key column can hold.

DRF's routers match any ``[^/.]+`` as the key, so ``/requests/abc/approve/`` reached the
database with ``pk='abc'`` (a 500). Here the lookup pattern follows the model field behind the
lookup: digits for integer keys, a UUID for UUID keys, a slug for slug fields; anything else
is a 404 before a view runs. Neither router adds format-suffix duplicates (``/regions.json``):
the API speaks JSON only.
"""

from django.db import models
from rest_framework import routers

UUID = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
PATTERNS = (
    ((models.AutoField, models.BigAutoField, models.IntegerField), r"[0-9]+"),
    ((models.UUIDField,), UUID),
    ((models.SlugField,), r"[-a-zA-Z0-9_]+"),
)


def lookup_pattern(viewset) -> str | None:
    """The pattern for the viewset's lookup field, from its model (its ``queryset`` or its
    serializer's ``Meta.model``). A viewset whose model neither names is looked up by the
    project's default key, an integer (``DEFAULT_AUTO_FIELD``); None: DRF's default."""
    name = getattr(viewset, "lookup_field", "pk")
    model = getattr(getattr(viewset, "queryset", None), "model", None)
    if model is None:
        meta = getattr(getattr(viewset, "serializer_class", None), "Meta", None)
        model = getattr(meta, "model", None)
    if model is None:
        return r"[0-9]+" if name == "pk" else None
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    for kinds, pattern in PATTERNS:
        if isinstance(field, kinds):
            return pattern
    return None


class _TypedLookups:
    include_format_suffixes = False

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if getattr(viewset, "lookup_value_regex", None) is None:
            pattern = lookup_pattern(viewset)
            if pattern is not None:
                lookup = getattr(viewset, "lookup_url_kwarg", None) or getattr(
                    viewset, "lookup_field", "pk"
                )
                return f"(?P<{lookup_prefix}{lookup}>{pattern})"
        return super().get_lookup_regex(viewset, lookup_prefix)


class SimpleRouter(_TypedLookups, routers.SimpleRouter):
    pass


class DefaultRouter(_TypedLookups, routers.DefaultRouter):
    pass
