"""One registry for the apps' notification hooks.

An app says what deserves a notice in its own ``notices.py``, and the notifications app
imports none of them by name:

- ``@on("transfer.submitted")`` runs when audit events with that action are recorded (in the
  same transaction) and returns the notices they imply. It receives the list of those events
  from one write: one from ``record_event``, every one of them from a bulk append (ending a
  mechanism suspends thousands of transfers in one write), so a hook reads what it needs for
  all of them at once, in a fixed number of queries;
- ``@periodic`` runs on every check (beat, every few minutes) and returns notices for
  conditions that last, such as an agent out of sync for longer than a set time.

A hook returns ``Draft`` objects; the service stores one notice per recipient and key (a
repeated key is stored once) and mails them according to each person's choice.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from importlib import import_module

from django.apps import apps
from django.utils.module_loading import module_has_submodule

KINDS = {
    "awaiting_decision": "A request or deployment awaits your decision",
    "mechanism_ending": "A transfer mechanism ends within 30 days",
    "transfer_suspended": "A transfer was suspended or ended in your regions",
    "deployment_withdrawn": "A deployment was withdrawn in your regions",
    "agent_trouble": "An agent is out of sync or refuses bundles",
}

_event_hooks: dict[str, list] = defaultdict(list)
_periodic_hooks: list = []


@dataclass(frozen=True)
class Draft:
    recipients: tuple  # users
    kind: str
    title: str
    body: str = ""
    url: str = ""
    region: str = ""
    key: str = ""  # the same key for the same recipient is stored once
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown notice kind {self.kind!r}; use one of {sorted(KINDS)}")


def on(*actions: str):
    def register(hook):
        for action in actions:
            if hook not in _event_hooks[action]:
                _event_hooks[action].append(hook)
        return hook

    return register


def periodic(hook):
    if hook not in _periodic_hooks:
        _periodic_hooks.append(hook)
    return hook


def hooks_for(action: str) -> list:
    return list(_event_hooks.get(action, ()))


def hooks_for_events(events) -> list[tuple]:
    """``(hook, [its events])`` for the hooks that listen to any of ``events``, each hook once
    with its events in chain order, hooks in the order they were registered."""
    by_hook: dict = {}
    for event in events:
        for hook in _event_hooks.get(event.action, ()):
            by_hook.setdefault(hook, []).append(event)
    return list(by_hook.items())


def periodic_hooks() -> list:
    return list(_periodic_hooks)


def autodiscover() -> None:
    for app in apps.get_app_configs():
        if module_has_submodule(app.module, "notices"):
            import_module(f"{app.name}.notices")
