"""One decision workflow for what a DPO decides: transfer requests and model deployments.

Both registers ask the same things of a decision, so they share this module:

* the engine's verdict may carry **conditions** (findings of severity ``condition``): facts the
  request left open that the approving DPO must confirm. The approval form shows each as a
  checkbox, the API takes their codes in ``confirmed``; an approval without every condition
  confirmed is refused with a message naming what is missing, an unknown code is a 400 naming
  the field, and the confirmed codes are recorded with the decision and in its audit event;
* a **second decision** is refused with a 409 that names the decision that actually came
  first (who approved or rejected, and when), even when the object has moved on since
  (revoked, suspended, retired...);
* a decision that **committed** is never reported as a failure because reading it back for the
  answer failed: the answer falls back to what the service returned.

The services (``transfers.services``, ``modelregistry.services``) call these helpers inside
their own transaction and row lock; the views, the API and the templates use the form field,
the serializer field and ``templates/decisions/_conditions.html``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django import forms
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import DatabaseError
from django.utils import timezone
from rest_framework import serializers

from controlplane.errors import ConflictError, DomainError

CONDITION = "condition"  # the severity the policy engines give a condition
APPROVED = "approved"
REJECTED = "rejected"

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Condition:
    """One thing to confirm: a finding code and what it asks, in words."""

    code: str
    message: str


def _get(finding, name):
    return finding.get(name) if isinstance(finding, dict) else getattr(finding, name)


def conditions_of(findings: Iterable) -> list[Condition]:
    """The conditions among ``findings`` (dicts or ``Finding`` objects), one per code.

    Two findings with one code (the same scope question on two onward legs) are one checkbox
    whose text carries both messages.
    """
    merged: dict[str, list[str]] = {}
    for finding in findings:
        if _get(finding, "severity") == CONDITION:
            merged.setdefault(_get(finding, "code"), []).append(_get(finding, "message"))
    return [Condition(code, " ".join(messages)) for code, messages in merged.items()]


def require_confirmed(*, conditions: Iterable[Condition], confirmed, field="confirmed") -> list:
    """Check that ``confirmed`` covers every condition and names nothing else.

    Returns the sorted codes to record with the decision. Raises ``ValidationError`` on
    ``field`` for an unknown code (a 400 that names the field), and a ``DomainError`` with code
    ``confirmation_required`` when a condition was not confirmed.
    """
    conditions = list(conditions)
    required = {c.code for c in conditions}
    given = {str(c) for c in (confirmed or ())}
    unknown = sorted(given - required)
    if unknown:
        expected = ", ".join(sorted(required)) or "none"
        raise ValidationError(
            {
                field: f"Not a condition of this decision: {', '.join(unknown)}. Expected: {expected}."
            }
        )
    missing = [c for c in conditions if c.code not in given]
    if missing:
        raise DomainError(
            "Approval refused: confirm every condition first. Not confirmed: "
            + " ".join(f"{c.code}: {c.message}" for c in missing),
            code="confirmation_required",
        )
    return sorted(required)


def first_decision_conflict(
    obj, *, decision: str | None, decided_by, decided_at, state: str
) -> ConflictError:
    """The 409 for a second decision: who decided first, what, and when; then the state now.

    ``decision`` is what the first decider did (``approved`` or ``rejected``), never the
    object's later state: an approval revoked since was still decided by its approver.
    """
    if decided_by is None or decision is None:
        return ConflictError(f"{obj} is {state}, not awaiting a decision.")
    who = decided_by.get_username()
    when = timezone.localtime(decided_at).strftime("%Y-%m-%d %H:%M") if decided_at else "?"
    later = "" if state == decision else f" (it is {state} now)"
    return ConflictError(
        f"{obj} was already {decision} by {who} at {when}{later}; your decision was not recorded."
    )


def answer_after_commit(read: Callable, fallback: Callable):
    """``read()`` the committed object for the answer; on failure answer ``fallback()``.

    The decision is already committed: a failing read (a lost connection, a row the reader
    may no longer see) must not turn it into an error the client would retry.
    """
    try:
        return read()
    except (ObjectDoesNotExist, DatabaseError) as error:
        logger.warning("decision committed, but reading it back failed: %s", error)
        return fallback()


# --------------------------------------------------------------------------------------------
# Forms and the API
# --------------------------------------------------------------------------------------------


class ConditionsField(forms.MultipleChoiceField):
    """Checkboxes, one per condition, labelled with what the DPO confirms."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "I confirm")
        super().__init__(*args, **kwargs)

    def set_conditions(self, conditions: Iterable[Condition]) -> None:
        self.choices = [(c.code, c.message) for c in conditions]


class ConfirmedSerializerField(serializers.ListField):
    """``confirmed``: the codes of the conditions the approver confirms."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(max_length=80))
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", list)
        kwargs.setdefault(
            "help_text",
            "Codes of the findings with severity 'condition' that you confirm. Every one must "
            "be confirmed before an approval.",
        )
        super().__init__(**kwargs)


def fallback_answer(obj, **extra) -> dict:
    """A small answer built from the service's own object, for ``answer_after_commit``."""
    return {
        "id": obj.pk,
        "status": obj.status,
        "decided_at": obj.decided_at.isoformat() if obj.decided_at else None,
        "detail": "The decision was recorded; reading it back failed, reload it to see it.",
        **extra,
    }
