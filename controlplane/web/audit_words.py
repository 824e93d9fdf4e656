"""An audit event in words: what changed, as a small diff, and where the object lives.

Pure functions over the stored event data. Services record changes in one of three shapes:
``{field: {"from": a, "to": b}}``, ``{"changes": {...that...}, ...}`` or
``{"before": {...}, "after": {...}}``; anything else is a list of facts.
"""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

MAX_VALUE = 120


@dataclass(frozen=True)
class Line:
    field: str
    before: str | None  # None: a fact, not a change
    after: str

    @property
    def is_change(self) -> bool:
        return self.before is not None


def _label(key: str) -> str:
    return str(key).replace("_", " ")


def _value(value) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        text = ", ".join(_value(v) for v in value)
    elif isinstance(value, dict):
        text = "; ".join(f"{_label(k)}: {_value(v)}" for k, v in value.items())
    else:
        text = str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _is_change(value) -> bool:
    return isinstance(value, dict) and set(value) == {"from", "to"}


def describe(data) -> list[Line]:
    """The event's data as lines: changes first (``field: before → after``), then facts."""
    if not isinstance(data, dict) or not data:
        return []
    changes: dict = {}
    facts: dict = {}
    if isinstance(data.get("before"), dict) and isinstance(data.get("after"), dict):
        before, after = data["before"], data["after"]
        for key in dict.fromkeys([*before, *after]):
            if before.get(key) != after.get(key):
                changes[key] = {"from": before.get(key), "to": after.get(key)}
        facts = {k: v for k, v in data.items() if k not in ("before", "after")}
    else:
        nested = data.get("changes") if isinstance(data.get("changes"), dict) else {}
        for key, value in {**data, **nested}.items():
            if key == "changes" and nested:
                continue
            (changes if _is_change(value) else facts)[key] = value
    lines = [Line(_label(k), _value(v["from"]), _value(v["to"])) for k, v in changes.items()]
    lines += [Line(_label(k), None, _value(v)) for k, v in facts.items()]
    return lines


# object type -> (url name, whether the URL takes the object's repr instead of its id)
OBJECT_PAGES = {
    "transfers.transferrequest": ("transfers:detail", False),
    "transfers.mechanism": ("transfers:mechanism", False),
    "modelregistry.deploymentapproval": ("modelregistry:deployment", False),
    "modelregistry.mlmodel": ("modelregistry:model", True),
    "regions.region": ("regions:detail", True),
    "regions.agent": ("distribution:agent", False),
}


def object_url(object_type: str, object_id: str, object_repr: str) -> str:
    """The page of the event's object, or "" when it has none."""
    target = OBJECT_PAGES.get(object_type)
    if target is None or not object_id:
        return ""
    name, by_repr = target
    try:
        return reverse(name, args=[object_repr if by_repr else object_id])
    except NoReverseMatch:
        return ""
