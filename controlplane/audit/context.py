"""Who is acting right now, for audit records written by signal receivers.

Services take ``by=`` explicitly. Only changes that reach us through Django's own
machinery (object permissions granted in the admin, group membership) use this.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from controlplane.audit.actors import Actor, actor_for

_current_actor: ContextVar[Actor | None] = ContextVar("current_actor", default=None)


def current_actor() -> Actor:
    return _current_actor.get() or Actor.system()


@contextmanager
def acting_as(who):
    token = _current_actor.set(actor_for(who))
    try:
        yield
    finally:
        _current_actor.reset(token)


class ActingUserMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            with acting_as(user):
                return self.get_response(request)
        return self.get_response(request)
