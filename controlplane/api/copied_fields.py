"""Serializer fields copied cheaply, for the request bodies read on hot paths.

DRF gives every serializer instance its own fields by deep-copying the declared ones, which
re-runs each field's ``__init__`` with deep copies of its arguments (choices rebuilt, validators
rebuilt, child fields and nested serializers copied the same way): about a sixth of a web
worker's time on the dry run. A field keeps nothing of a validation but its binding (its name
and its parent) and, for a nested serializer, its own bound fields; so a shallow copy whose
child field is copied too and points to its new parent is all that reading a body needs. What
the copies share (choices, validators, error messages) is read, never changed, after the field
is declared.

tests/foundation/test_copied_fields.py checks that copies are each their own.
"""

import copy

from rest_framework.fields import Field


class CopiedFieldsMixin:
    """For a serializer that only reads request bodies: declared fields copied shallowly."""

    def get_fields(self):
        return {name: copied(field) for name, field in self._declared_fields.items()}


def copied(field: Field) -> Field:
    clone = copy.copy(field)
    clone.__dict__.pop("fields", None)  # a nested serializer builds its own, bound to itself
    child = getattr(field, "child", None)  # ListField, DictField, ListSerializer (many=True)
    if isinstance(child, Field):
        clone.child = copied(child)
        clone.child.parent = clone  # as bound by the field's __init__: name "", source ""
    return clone
