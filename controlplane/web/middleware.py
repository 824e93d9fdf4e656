from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequired
from django.core.exceptions import PermissionDenied

from controlplane.permissions import is_auditor

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class LoginRequiredMiddleware(DjangoLoginRequired):
    """Every page needs a login. The API authenticates on its own (sessions, tokens, agents)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class AuditorsReadOnlyMiddleware:
    """Auditors read everything and change nothing, whatever page or form they reach."""

    allowed_paths = ("/logout/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            request.method not in SAFE_METHODS
            and user is not None
            and user.is_authenticated
            and is_auditor(user)
            and request.path_info not in self.allowed_paths
            and not request.path_info.startswith("/api/")  # the API applies the same rule itself
        ):
            raise PermissionDenied("Auditors have read-only access.")
        return self.get_response(request)
