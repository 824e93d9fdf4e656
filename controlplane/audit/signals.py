"""Signals other apps listen to without the audit trail importing them."""

from django.dispatch import Signal

# Sent once per appended event, inside the writer's transaction, by ``record_event`` and
# ``record_events`` alike (a bulk INSERT sends no ``post_save``). Arguments: ``event``.
event_recorded = Signal()
