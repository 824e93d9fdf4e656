"""Signals other apps listen to without the audit trail importing them."""

from django.dispatch import Signal

# Sent once per write, inside the writer's transaction, by ``record_event`` (one event) and
# ``record_events`` (every event of the bulk append, in chain order; a bulk INSERT sends no
# ``post_save``). Arguments: ``events``, a list of ``AuditEvent``. Listeners handle the
# write's events together, so a bulk append of 10,000 events costs them a few queries, not
# 10,000 times a few.
event_recorded = Signal()
