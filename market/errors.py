"""Typed domain errors; mapped to HTTP in one place (market.web.errors)."""
from __future__ import annotations


class DomainError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403


class OrganisationSuspended(PermissionDenied):
    """The acting user's organisation is suspended: it may read, not write (market.acting)."""
    code = "organisation_suspended"


class InvalidState(DomainError):
    code = "invalid_state"
    status = 409


class Conflict(DomainError):
    code = "conflict"
    status = 409


class ValidationFailed(DomainError):
    code = "validation_failed"
    status = 422

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 errors: dict[str, list[str]] | None = None):
        super().__init__(message, field=field, code=code)
        self.errors = errors or ({field: [message]} if field else {})
