"""One application error type, so every refusal reaches the user in the same shape."""

from __future__ import annotations


class ApplicationError(Exception):
    """A request we understood but will not carry out. ``status`` is the HTTP answer."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Conflict(ApplicationError):
    """The record changed since the user loaded it, or the request clashes with another."""

    status = 409


class FieldError(ApplicationError):
    """Refused because of one input, named so that a form or the API shows it beside that field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
