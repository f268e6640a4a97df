"""The one error type that services raise for a user-facing refusal."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class ApplicationError(Exception):
    """A refusal with a translatable message and structured extra data ({"fields": {...}} etc.).

    `status` is the HTTP status the API answers with: 400 for bad input, 409 for a lost race or a
    state that no longer allows the action.
    """

    def __init__(self, message: str | Promise, extra: dict[str, Any] | None = None, *, status: int = 400):
        super().__init__(str(message))
        self.message = message
        self.extra = extra or {}
        self.status = status


class ConflictError(ApplicationError):
    def __init__(self, message: str | Promise, extra: dict[str, Any] | None = None):
        super().__init__(message, extra, status=409)


def field_error(field: str, message: str | Promise, *, status: int = 400) -> ApplicationError:
    """A refusal of one input field, in the shape every form and API shows beside that field."""
    return ApplicationError(message, {"fields": {field: str(message)}}, status=status)
