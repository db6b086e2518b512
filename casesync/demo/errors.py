"""Errors of the demo."""

from __future__ import annotations

from casesync.errors import CasesyncError


class DemoFailed(CasesyncError):
    """The demo did not converge in time; the message says what was still missing."""
