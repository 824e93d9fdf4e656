"""Domain errors: services raise these; the API and the UI turn them into clear messages."""


class DomainError(Exception):
    """A request that breaks a business rule. Shown to the user as it is."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class NotAllowed(DomainError):
    """The user may not do this (four eyes, region scope, role)."""

    code = "not_allowed"
    http_status = 403


class ConflictError(DomainError):
    """Someone else changed the thing first (e.g. two DPOs deciding at once)."""

    code = "conflict"
    http_status = 409
