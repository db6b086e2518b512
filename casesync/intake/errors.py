"""Errors of the HTTP intake."""

from __future__ import annotations

from casesync.errors import CasesyncError


class IntakeError(CasesyncError):
    """Base class of the HTTP intake's errors."""


class Refused(IntakeError):
    """A request the intake answers with an error: ``code`` is one of ``problems.CODES``, which
    fixes its HTTP status; the message says why, never with personal data or secrets."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class UnknownToken(IntakeError):
    """No token of that id exists in the region's database (nothing was revoked)."""
