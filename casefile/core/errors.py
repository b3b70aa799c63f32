"""Domain errors that services raise and views turn into messages."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the request; nothing was changed."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class InvalidInput(DomainError):
    """Input that passed the form but breaks a rule that needs the database to check."""


class NotAllowed(DomainError):
    """The actor may not do this (to an object they may see)."""
