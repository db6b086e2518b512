"""Errors of the ops commands. Each has a ``retriable`` flag the retry logic reads."""

from __future__ import annotations

from casesync.errors import CasesyncError


class OpsError(CasesyncError):
    """Base class of ops-side errors."""


class UnknownTopic(OpsError):
    """The broker does not know the topic the command names."""

    def __init__(self, topic: str) -> None:
        super().__init__(f"topic {topic} does not exist on the broker")
        self.topic = topic


class DeadLetterNotFound(OpsError):
    """No dead letter has the id the command names."""

    def __init__(self, dead_letter_id: int) -> None:
        super().__init__(f"no dead letter with id {dead_letter_id}")
        self.dead_letter_id = dead_letter_id


class BadRecording(OpsError):
    """A replay file is not a casesync recording (wrong format, schema or metadata)."""


class RecordingOfAnotherRegion(OpsError):
    """A recording of one region's inbox is applied to another region."""

    def __init__(self, recorded: str, region: str) -> None:
        super().__init__(f"the recording is of {recorded}'s inbox, not {region}'s")
        self.recorded = recorded
        self.region = region


class BadRange(OpsError):
    """The range options of a command contradict each other or cannot be resolved."""
