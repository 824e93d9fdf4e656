"""People's API tokens: issued for a user name and password, stored hashed, expiring.

django-rest-knox keeps only a SHA-512 digest of each token (and its first characters, to find
it); the token itself is shown once, in the answer to ``POST /api/v1/auth/token/``, and expires
after ``API_TOKEN_TTL_DAYS``. Failed attempts count towards the sign-in lockout (django-axes),
like the login page's.
"""

from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from controlplane.audit.services import record_event
from controlplane.web.lockout import lockout_response


def locked_out(request) -> bool:
    """django-axes flags the request it was given: DRF's, or the Django request under it."""
    return bool(
        getattr(request, "axes_locked_out", False)
        or getattr(request._request, "axes_locked_out", False)
    )


class ObtainToken(APIView):
    authentication_classes: list = []  # the credentials are in the body
    permission_classes = [AllowAny]
    serializer_class = AuthTokenSerializer

    @extend_schema(
        summary="Obtain an API token",
        description="Answers a new token for the user name and password, shown only this once. "
        "Send it as `Authorization: Token <token>`. It expires at `expiry`. After repeated "
        "failures the account is locked for this client for a while (429).",
        responses={
            200: inline_serializer(
                "IssuedToken",
                {"token": serializers.CharField(), "expiry": serializers.DateTimeField()},
            ),
            400: OpenApiResponse(description="A field is missing, or the credentials are wrong."),
            429: inline_serializer(
                "LockedOut", {"detail": serializers.CharField(), "code": serializers.CharField()}
            ),
        },
    )
    def post(self, request):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        valid = serializer.is_valid()
        if locked_out(request):
            return lockout_response(request._request)
        if not valid:
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        user = serializer.validated_data["user"]
        with transaction.atomic():
            instance, token = AuthToken.objects.create(user=user)
            record_event(
                actor=user, action="api_token.issued", obj=user, data={"expires": instance.expiry}
            )
        return Response({"token": token, "expiry": instance.expiry})
