"""Errors of the local launchers."""

from __future__ import annotations


class InfraError(Exception):
    """Base class: a local service could not be prepared, started or stopped."""

    retriable = False


class MissingPrerequisite(InfraError):
    """A program the launcher needs (java, maven, PostgreSQL) is not installed."""


class ServiceStartFailed(InfraError):
    """The service process exited or never became ready; the message names its log file."""


class PortBusy(InfraError):
    """Another program already listens on a port the launcher wants."""


class FormattedWithoutSecurity(InfraError):
    """The local broker's storage was formatted for plaintext; the message says what to do."""


class TopologyMismatch(InfraError):
    """The local Kafka on disk or running is not the size asked for; the message says what to do."""


class BadSetting(InfraError):
    """A ``CASESYNC_*`` variable of the launchers has a value they cannot use."""


class StillRunning(InfraError):
    """A service still runs from a folder that was asked to be deleted; stop it first."""
