"""Sign-ins, failed sign-ins, sign-outs and lockouts, in the trail.

Never the password (Django hands receivers the credentials with it masked; we keep nothing of
them but the user name), and the user name of a failed attempt only when it names an account:
what someone typed in the user name field may be their password, and the trail keeps it forever.
"""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from controlplane.audit.actors import Actor
from controlplane.audit.services import record_event

ATTEMPT = Actor.system("login")


def _via(request) -> str:
    return getattr(request, "path", "") or ""


def _record_attempt(action: str, username, request) -> None:
    """A failed sign-in or a lockout: the user name kept only when it names an account."""
    User = get_user_model()
    account = None
    if isinstance(username, str) and username:
        account = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
    record_event(
        actor=ATTEMPT,
        action=action,
        obj=account,
        data={
            "username": account.get_username() if account else None,
            "known_user": account is not None,
            "via": _via(request),
        },
    )


@receiver(user_logged_in)
def logged_in(sender, request, user, **kwargs):
    record_event(actor=user, action="user.logged_in", obj=user, data={"via": _via(request)})


@receiver(user_logged_out)
def logged_out(sender, request, user, **kwargs):
    if user is not None:
        record_event(actor=user, action="user.logged_out", obj=user, data={"via": _via(request)})


@receiver(user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs):
    _record_attempt("user.login_failed", credentials.get(get_user_model().USERNAME_FIELD), request)


@receiver(user_locked_out)
def locked_out(sender, request, username=None, ip_address=None, **kwargs):
    _record_attempt("user.locked_out", username, request)
