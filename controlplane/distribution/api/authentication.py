"""Bearer tokens for agents. An agent is not a user: it opens its own region's agent API only."""

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
