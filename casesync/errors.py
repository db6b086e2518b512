"""Errors shared by every casesync process. Each has a ``retriable`` flag the retry logic reads."""

from __future__ import annotations


class CasesyncError(Exception):
    """Base class of casesync's own errors."""

    retriable = False


class ConfigError(CasesyncError):
    """A setting is missing or malformed; the message names the environment variable."""


class Unreachable(CasesyncError):
    """A service (Kafka or PostgreSQL) could not be reached; the message names which and where."""

    retriable = True

    def __init__(self, service: str, where: str, reason: str) -> None:
        super().__init__(f"cannot reach {service} at {where}: {reason}")
        self.service = service
        self.where = where


class AccessRefused(CasesyncError):
    """The broker refused this process's credentials or certificate (not retriable: a wrong
    password stays wrong); the message names the user and the broker, never the password."""

    def __init__(self, where: str, user: str, reason: str) -> None:
        super().__init__(f"Kafka at {where} refused user {user!r}: {reason}")
        self.where = where
        self.user = user


class PortUnavailable(CasesyncError):
    """A server's address cannot be bound (the port is taken, or the address not this host's)."""
