"""Errors raised by services; the web layer maps each type once to a page or an API envelope."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def localised(self, lang: str) -> str:
        from schemas.messages import translate

        return translate(self.message, lang)


class NotFound(ServiceError):
    """The object does not exist, or the caller may not know that it exists."""


class NotAuthorized(ServiceError):
    """The caller is not allowed to do this."""


class ValidationFailed(ServiceError):
    """Field-level errors: ``{"field": ["message", ...], "resources": {0: {...}}}`` in English."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__("Validation failed: " + ", ".join(sorted(map(str, errors))))
        self.errors = errors

    def localised_errors(self, lang: str) -> dict[str, Any]:
        from schemas.messages import localise_errors

        return localise_errors(self.errors, lang)


class SearchQueryError(ServiceError):
    """A search request that cannot be understood (a malformed ``fq``, an unknown sort)."""
