"""Every way an event or the reference data can be wrong, as one typed error each.

The consumer branches on the class (never on message text) and reads two flags:
``retriable`` (none of these heal by retrying) and ``disposition`` (what to do with the event).
Messages name codes, versions and files, never personal data such as ID numbers.
"""

from __future__ import annotations

from enum import StrEnum

from casesync.errors import CasesyncError


class Disposition(StrEnum):
    """What a consumer should do with an event that raised the error."""

    DEAD_LETTER = "DEAD_LETTER"  # the event can never be applied: park it for a human
    IGNORE = "IGNORE"  # already applied or superseded: skip it quietly
    HOLD_VISIBLE = "HOLD_VISIBLE"  # something is missing before it: show operators


class DomainError(CasesyncError):
    """Base class of every casesync domain error."""

    retriable = False
    disposition = Disposition.DEAD_LETTER


class CatalogueError(DomainError):
    """A reference data file is missing, unreadable or inconsistent."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


class CalendarOutOfRange(DomainError):
    """A date falls in a year the holiday file does not cover."""


class UnknownRegion(DomainError):
    """A region code is not in the catalogue."""


class UnknownItem(DomainError):
    """A service item code is not in the catalogue."""


class UnknownWorkflow(DomainError):
    """A workflow id, step number or role is not declared."""


class ItemNotShared(DomainError):
    """No agreement in force shares the item between the two regions."""


class SpoofedSource(DomainError):
    """The event's source region is not the region its record's source header names."""


class Misaddressed(DomainError):
    """The record is not for its reader: its target header or its event names another region."""


class ModeNotOffered(DomainError):
    """The item is not offered in the event's handling mode."""


class PersonalDataNotAllowed(DomainError):
    """The applicant carries a personal field the item does not need (data minimisation)."""


class MalformedEvent(DomainError):
    """The event breaks a rule of the contract itself, e.g. a case version below 1."""


class IllegalTransition(DomainError):
    """The event type is not allowed from the case's current state in its handling mode."""


class _VersionError(DomainError):
    """A case version that does not follow the last applied one."""

    def __init__(self, case_id: str, expected: int, received: int) -> None:
        super().__init__(f"case {case_id}: expected version {expected}, received {received}")
        self.case_id = case_id
        self.expected = expected
        self.received = received


class VersionGap(_VersionError):
    """The event's case version skips one or more versions not yet applied."""

    disposition = Disposition.HOLD_VISIBLE


class VersionRegression(_VersionError):
    """The event's case version is not newer than the applied one: duplicate or stale."""

    disposition = Disposition.IGNORE
