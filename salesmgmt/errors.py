"""Errors that services raise and every interface (pages, API) knows how to show."""

from __future__ import annotations


class ApplicationError(Exception):
    """A business rule refused the request; ``message`` is safe to show to the user."""

    status_code = 400

    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class PermissionDeniedError(ApplicationError):
    """The actor may see the record but not do this to it."""

    status_code = 403


class ConflictError(ApplicationError):
    """Someone else changed the record since the actor read it (optimistic locking)."""

    status_code = 409


class MissingExchangeRateError(ApplicationError):
    """No rate is known for a currency, so an amount cannot be converted."""
