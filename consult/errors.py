"""Domain errors. One handler (consult.http) maps them to HTML or JSON with SPEC §5's statuses."""


class ConsultError(Exception):
    status = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds, sent as Retry-After (503s that will pass)

    def __init__(self, message: str = "", *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotFound(ConsultError):
    status = 404
    code = "not_found"


class NotAllowed(ConsultError):
    status = 403
    code = "forbidden"


class InvalidTransition(ConsultError):
    status = 409
    code = "invalid_transition"


class WindowClosed(ConsultError):
    status = 409
    code = "window_closed"


class Conflict(ConsultError):
    status = 409
    code = "conflict"


class ValidationFailed(ConsultError):
    status = 422
    code = "validation_failed"


class AccountRequired(ConsultError):
    """The action needs a signed-in citizen account (401)."""

    status = 401
    code = "account_required"


class Unavailable(ConsultError):
    """Busy or down for a moment (503): the answer carries `Retry-After: retry_after`."""

    status = 503
    code = "unavailable"
    retry_after = 2


class RateLimited(ConsultError):
    """Too many requests from one client or person (429, with `Retry-After`)."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str = "", *, retry_after: int = 60, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = max(1, int(retry_after))
