"""Bearer tokens for agents. An agent is not a user: it opens its own region's agent API only."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from controlplane.distribution.services import AgentPrincipal, authenticate_agent


def bearer_token(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


class AgentTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        token = bearer_token(request)
        if not token:
            return None
        principal = authenticate_agent(token)
        if principal is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked agent token.")
        return principal, token

    def authenticate_header(self, request):
        return 'Bearer realm="agent"'


class IsAgent(permissions.BasePermission):
    message = "This endpoint is for regional agents."

    def has_permission(self, request, view):
        return isinstance(request.user, AgentPrincipal)


class AgentTokenScheme(OpenApiAuthenticationExtension):
    target_class = "controlplane.distribution.api.authentication.AgentTokenAuthentication"
    name = "agentToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An agent's token (sva_...), shown once at enrolment.",
        }
