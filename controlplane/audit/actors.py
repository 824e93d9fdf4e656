"""Who did something: a person, a regional agent, or the system itself."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # "user" | "agent" | "system"
    identifier: str
    label: str

    @classmethod
    def user(cls, user) -> "Actor":
        return cls("user", str(user.pk), user.get_username())

    @classmethod
    def agent(cls, agent) -> "Actor":
        return cls("agent", str(agent.pk), str(agent))

    @classmethod
    def system(cls, component: str = "controlplane") -> "Actor":
        return cls("system", component, component)


def actor_for(who) -> Actor:
    """Accept an Actor, a user, or None (the system) where services take ``by=``."""
    if who is None:
        return Actor.system()
    if isinstance(who, Actor):
        return who
    if hasattr(who, "get_username"):
        return Actor.user(who)
    raise TypeError(f"Cannot tell who {who!r} is; pass a user or an Actor.")
