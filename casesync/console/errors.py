"""Errors of the ops console."""

from __future__ import annotations

from casesync.errors import CasesyncError


class ConsoleError(CasesyncError):
    """The console cannot start as asked."""


class PortUnavailable(ConsoleError):
    """The console's address cannot be bound (taken, or not this host's)."""
