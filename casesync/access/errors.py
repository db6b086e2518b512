"""Errors of access provisioning. Each has a ``retriable`` flag the retry logic reads."""

from __future__ import annotations

from casesync.errors import CasesyncError


class AccessError(CasesyncError):
    """Base class of access-provisioning errors."""


class NoAuthorizer(AccessError):
    """The broker runs without an authorizer, so it holds no ACLs to read or change."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"the broker at {where} has no authorizer (authorizer.class.name): "
            "ACLs need a secured broker"
        )


class AdminRefused(AccessError):
    """The broker refused an admin request: the client is not an administrator."""

    def __init__(self, what: str, where: str) -> None:
        super().__init__(f"the broker at {where} refused to {what}: connect as an administrator")


class ChangeRefused(AccessError):
    """The broker answered a change (user, topic or ACL) with an error."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"could not {what}: {reason}")


class ChangeNotVisible(AccessError):
    """A change the broker accepted was not visible when read back within the time allowed."""

    retriable = True

    def __init__(self, what: str, timeout_s: float) -> None:
        super().__init__(f"{what} not visible on the broker after {timeout_s:g} s")


class CredentialsNotWritten(AccessError):
    """A new principal's credentials file could not be written; the principal was not created."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot write credentials file {path}: {reason}")
