"""Writes to the estate. Each checks the row, saves it and audits it in one transaction."""

from django.db import transaction
from django.forms.models import model_to_dict

from controlplane.audit.services import record_event


def _action(instance, verb: str) -> str:
    return f"{instance._meta.model_name}.{verb}"


def snapshot(instance) -> dict:
    """The row's editable values, as the audit trail records them."""
    values = model_to_dict(instance)
    values.pop("id", None)
    return {key: _plain(value) for key, value in values.items()}


def _plain(value):
    """A related row as its key; a many-to-many list as the sorted keys of its rows."""
    if isinstance(value, list | tuple):
        return sorted(str(_plain(item)) for item in value)
    return value.pk if hasattr(value, "pk") else value


def changed_fields(before: dict, after: dict) -> dict:
    return {
        key: {"from": before.get(key), "to": value}
        for key, value in after.items()
        if before.get(key) != value
    }


def estate_object_save(*, instance, by) -> object:
    """Create or change a region, data store, key reference, endpoint, rule or category."""
    creating = instance._state.adding
    with transaction.atomic():
        before = {}
        if not creating:
            previous = type(instance).objects.select_for_update().get(pk=instance.pk)
            before = snapshot(previous)
        instance.full_clean()
        instance.save()
        after = snapshot(instance)
        if creating:
            record_event(actor=by, action=_action(instance, "created"), obj=instance, data=after)
        else:
            changes = changed_fields(before, after)
            if changes:
                record_event(
                    actor=by, action=_action(instance, "changed"), obj=instance, data=changes
                )
        _after_estate_change(instance)
    return instance


def estate_object_delete(*, instance, by) -> None:
    with transaction.atomic():
        data = snapshot(instance)
        record_event(actor=by, action=_action(instance, "deleted"), obj=instance, data=data)
        region = _region_of(instance)
        instance.delete()
        if region is not None and not isinstance(instance, type(region)):
            _notify_region_changed(region)


def _region_of(instance):
    path = getattr(type(instance), "region_path", "missing")
    if path is None:
        return instance
    if path == "region":
        return instance.region
    return None


# Other apps (bundle publishing) subscribe here to hear that a region's desired state changed.
region_changed_listeners: list = []


def _notify_region_changed(region) -> None:
    for listener in region_changed_listeners:
        listener(region)


def _after_estate_change(instance) -> None:
    region = _region_of(instance)
    if region is not None:
        _notify_region_changed(region)
