"""Domain errors carry their HTTP status, so routes never build error responses by hand."""
from __future__ import annotations

from chalice import BadRequestError, ChaliceViewError, ConflictError, NotFoundError, UnauthorizedError


class ForbiddenError(ChaliceViewError):
    STATUS_CODE = 403


__all__ = ["BadRequestError", "ConflictError", "ForbiddenError", "NotFoundError", "UnauthorizedError"]
