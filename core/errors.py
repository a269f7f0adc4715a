"""Error types every layer raises and every entry point knows how to report."""
from __future__ import annotations


class ErpError(Exception):
    """Base of the errors we expect and report to the user (not bugs)."""


class NotFound(ErpError):
    pass


class Conflict(ErpError):
    """Someone else changed the same thing first; the caller may reload and retry (HTTP 409)."""


class PermissionDenied(ErpError):
    pass


class InvalidInput(ErpError):
    """Input rejected as a whole; `errors` maps a field path (or '') to its messages."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.errors = errors or {}


class RateLimited(ErpError):
    """Too many attempts in a short time (HTTP 429); `retry_after` is in seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after
