"""One place that turns errors into clear API answers: domain errors, refused input, and the
request-level refusals Django raises before a view runs (a body over the size limit, too many
fields). Every API error is JSON: ``{"detail": "...", "code": "..."}`` at least."""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import JsonResponse
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from controlplane.errors import ConflictError, DomainError


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"

    def __init__(self, limit: int | None = None):
        limit_text = f" ({limit:,} bytes)" if limit else ""
        super().__init__(f"The request body is larger than the limit{limit_text}.")


def refusal(exc) -> tuple[int, dict] | None:
    """Status and body for a request-level refusal Django raises itself, or None."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return 413, {"detail": str(PayloadTooLarge(limit).detail), "code": "too_large"}
    if isinstance(exc, TooManyFieldsSent):
        return 400, {"detail": "The request has too many fields.", "code": "too_many_fields"}
    if isinstance(exc, ProtectedError | RestrictedError):
        objects = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
        kinds = sorted({str(o._meta.verbose_name_plural) for o in objects})
        return 409, {
            "detail": f"Still in use by {', '.join(kinds) or 'other records'}; remove those first.",
            "code": "in_use",
        }
    return None


def json_refusal(status_code: int, detail: str, code: str) -> JsonResponse:
    """The API's error body outside DRF (middleware, Django's error handlers)."""
    return JsonResponse(
        {"detail": detail, "code": code},
        status=status_code,
        json_dumps_params={"separators": (",", ":")},
    )


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            body = {
                field: [str(m) for m in messages] for field, messages in exc.message_dict.items()
            }
        else:
            body = {"detail": " ".join(exc.messages)}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConflictError):
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc), "code": exc.code}, status=exc.http_status)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(
            {"detail": str(exc) or "Permission denied."}, status=status.HTTP_403_FORBIDDEN
        )
    refused = refusal(exc)
    if refused is not None:
        return Response(refused[1], status=refused[0])
    return drf_exception_handler(exc, context)
