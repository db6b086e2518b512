"""Errors of the ops console."""

from __future__ import annotations

from casesync.errors import CasesyncError


class ConsoleError(CasesyncError):
    """The console cannot start as asked."""
