"""Domain errors carry their HTTP status, so routes never build error responses by hand."""
from __future__ import annotations

from chalice import BadRequestError, ChaliceUnhandledError, ChaliceViewError, ConflictError, NotFoundError
from chalice import UnauthorizedError


class ForbiddenError(ChaliceViewError):
    STATUS_CODE = 403


class ServiceUnavailableError(ChaliceViewError):
    """The deployment is misconfigured (e.g. no secret key without an explicit single-user mode)."""

    STATUS_CODE = 503


class TooManyAttemptsError(ChaliceUnhandledError):
    """429 with `Retry-After`. Chalice turns a ChaliceViewError into a response before any middleware sees
    it and gives it no headers, so this one passes through to app.py's middleware, which adds the header."""

    STATUS_CODE = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


__all__ = ["BadRequestError", "ConflictError", "ForbiddenError", "NotFoundError", "ServiceUnavailableError",
           "TooManyAttemptsError", "UnauthorizedError"]
