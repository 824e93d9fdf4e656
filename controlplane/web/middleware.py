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


class RefuseNulMiddleware:
    """No NUL character reaches a view: not in the path, the query string or a form body.

    PostgreSQL cannot store or compare text holding one, so a ``%00`` in a path parameter, a
    filter or a form's choice was a 500. Refused here, once, for pages and API alike (the API's
    bodies are checked by its parsers, ``controlplane.api.parsers``, which also read PUT and
    PATCH forms that Django does not).
    """

    FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._holds_nul(request):
            from controlplane.web.views import refuse

            return refuse(request, 400, "NUL characters are not allowed.", code="nul_character")
        return self.get_response(request)

    def _holds_nul(self, request) -> bool:
        if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", ""):
            return True
        if any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()):
            return True
        if request.method == "POST" and request.content_type in self.FORMS:
            request.body  # noqa: B018 - kept, so a view that reads the raw body still can
            return any(
                "\x00" in key or any("\x00" in v for v in values)
                for key, values in request.POST.lists()
            )
        return False


class AuditorsReadOnlyMiddleware:
    """Auditors read everything and change nothing, whatever page or form they reach."""

    allowed_paths = ("/login/", "/logout/")

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
