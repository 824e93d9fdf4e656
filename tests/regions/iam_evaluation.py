"""A small evaluator of IAM policy documents, enough to check what an SCP denies.

An SCP grants nothing; it can only deny. ``denied(policy, action=, resource=, context=)`` answers
whether any ``Deny`` statement applies to the request, with the documented semantics for the
elements our SCPs use: ``Action``/``NotAction`` and ``Resource``/``NotResource`` with ``*`` and
``?`` wildcards (actions case-insensitive), and the condition operators ``StringEquals``,
``StringNotEquals``, ``StringLike``, ``StringNotLike``, ``ArnLike``, ``ArnNotLike`` (with
``IfExists``). Values of one key are OR-ed, keys and operators AND-ed. A key missing from the
request makes a positive operator false and a negated one true; ``IfExists`` makes it true.
Anything else raises, so an SCP that grows an element this does not know fails the test rather
than passing it silently.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

KNOWN_ELEMENTS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
OPERATORS = {
    "StringEquals": (False, lambda v, p: v == p),
    "StringNotEquals": (True, lambda v, p: v == p),
    "StringLike": (False, lambda v, p: fnmatchcase(v, p)),
    "StringNotLike": (True, lambda v, p: fnmatchcase(v, p)),
    "ArnLike": (False, lambda v, p: fnmatchcase(v, p)),
    "ArnNotLike": (True, lambda v, p: fnmatchcase(v, p)),
}


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def _action_matches(patterns, action: str) -> bool:
    return any(fnmatchcase(action.lower(), p.lower()) for p in _list(patterns))


def _resource_matches(patterns, resource: str) -> bool:
    return any(fnmatchcase(resource, p) for p in _list(patterns))


def _condition_holds(condition: dict, context: dict) -> bool:
    for operator, keys in condition.items():
        name = operator.removesuffix("IfExists")
        if name not in OPERATORS:
            raise NotImplementedError(f"condition operator {operator}")
        negated, match = OPERATORS[name]
        for key, patterns in keys.items():
            if key not in context:
                if operator.endswith("IfExists") or negated:
                    continue
                return False
            hit = any(match(context[key], p) for p in _list(patterns))
            if hit == negated:
                return False
    return True


def statement_applies(statement: dict, *, action: str, resource: str, context: dict) -> bool:
    unknown = set(statement) - KNOWN_ELEMENTS
    if unknown:
        raise NotImplementedError(f"policy elements {sorted(unknown)}")
    if "Action" in statement and not _action_matches(statement["Action"], action):
        return False
    if "NotAction" in statement and _action_matches(statement["NotAction"], action):
        return False
    if "Resource" in statement and not _resource_matches(statement["Resource"], resource):
        return False
    if "NotResource" in statement and _resource_matches(statement["NotResource"], resource):
        return False
    return _condition_holds(statement.get("Condition", {}), context)


def denied(policy: dict, *, action: str, resource: str = "*", context: dict | None = None):
    """The Sid of the first Deny statement that applies, or None."""
    if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*]+", action):
        raise ValueError(f"not an action: {action}")
    for statement in _list(policy["Statement"]):
        if statement["Effect"] == "Deny" and statement_applies(
            statement, action=action, resource=resource, context=context or {}
        ):
            return statement.get("Sid", "?")
    return None
