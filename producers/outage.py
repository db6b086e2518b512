"""When the relay cannot publish, and what it says about it: pure, driven by the relay's clock.

An outage starts at the first sign the broker is away (a failed send, a producer that cannot
bootstrap, or acknowledgements that stopped coming while records wait) and ends at the first
acknowledged batch. The relay tells an operator three things, never one line per record: that
it started, that it goes on (every ``remind_every_s``), and that it ended, with how long it
lasted. kafka-python itself retries silently, so without this a relay that cannot publish
would say nothing at all while its outbox grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Notice(Enum):
    """What the relay should log now."""

    STARTED = "started"
    CONTINUES = "continues"


@dataclass(frozen=True, slots=True)
class Ended:
    """The outage that just ended."""

    lasted_s: float
    reason: str


@dataclass
class OutageClock:
    """Tracks one relay's broker outages; every method takes the current monotonic time."""

    remind_every_s: float = 60.0
    since: float | None = None
    reason: str = ""
    _last_notice: float = 0.0

    @property
    def ongoing(self) -> bool:
        return self.since is not None

    def lasted(self, now: float) -> float:
        """Seconds since the outage began (0 when there is none)."""
        return 0.0 if self.since is None else now - self.since

    def failed(self, now: float, reason: str) -> Notice | None:
        """A sign that the broker is away; the notice to log, if one is due."""
        self.reason = reason
        if self.since is None:
            self.since = self._last_notice = now
            return Notice.STARTED
        if now - self._last_notice >= self.remind_every_s:
            self._last_notice = now
            return Notice.CONTINUES
        return None

    def published(self, now: float) -> Ended | None:
        """A batch was acknowledged: the outage, if there was one, is over."""
        if self.since is None:
            return None
        ended = Ended(now - self.since, self.reason)
        self.since, self.reason = None, ""
        return ended
