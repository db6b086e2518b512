"""Where the relay sends an outbox row: one record to the inbox of each of its target regions.

Automatic topic creation is off, and a send to a topic the cluster lacks blocks for a minute and
then fails: the relay asks ``Inboxes.missing`` first and keeps the rows of a missing inbox in the
outbox. Which inboxes exist is asked of the cluster only while one is not yet known, and then at
most every ``recheck_s`` seconds; once seen, an inbox is taken to stay, until a send is refused
for want of authorization (``recheck``): Kafka shows a principal only the topics it may describe,
so an inbox whose WRITE was revoked (an agreement ended) then looks missing too, and its rows
are held the same way, nothing lost, until the grant is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection

import structlog

from casesync.adapters.topics import TopicNames
from casesync.errors import Unreachable

log = structlog.get_logger(__name__)


class Inboxes:
    """The inbox topic of each target region, and which of them the cluster holds."""

    def __init__(
        self,
        names: TopicNames,
        list_topics: Callable[[], Collection[str]],
        recheck_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        principal: str = "this client",
    ) -> None:
        """``principal`` names who asks the cluster, in the reason rows are held."""
        self._names = names
        self.principal = principal
        self._list_topics = list_topics
        self._recheck_s = recheck_s
        self._clock = clock
        self._topics: dict[str, str] = {}
        self._present: set[str] = set()  # regions whose inbox was seen
        self._next_check = float("-inf")

    def topic(self, region: str) -> str:
        """The inbox topic of ``region``."""
        topic = self._topics.get(region)
        if topic is None:
            topic = self._topics[region] = self._names.inbox(region)
        return topic

    def missing(self, regions: Collection[str]) -> set[str]:
        """The regions of ``regions`` whose inbox is not known to exist (yet)."""
        unknown = set(regions) - self._present
        if not unknown:
            return unknown
        now = self._clock()
        if now >= self._next_check:
            self._next_check = now + self._recheck_s
            try:
                topics = set(self._list_topics())
            except Unreachable as e:  # unknown counts as missing: rows wait, nothing is lost
                log.warning("cannot list topics; rows for unconfirmed inboxes wait",
                            error=str(e))  # fmt: skip
                return unknown
            self._present.update(r for r in unknown if self.topic(r) in topics)
        return unknown - self._present

    def recheck(self) -> None:
        """Forget which inboxes were seen: the next ``missing`` asks the cluster again (after a
        refused send, an inbox may no longer be visible to this principal)."""
        self._present.clear()
        self._next_check = float("-inf")

    def why_missing(self, regions: Collection[str]) -> str:
        """Why rows for ``regions`` (whose inboxes are missing) are held, naming each inbox and
        the principal: the cluster hides topics a principal may not describe, so it may be
        missing, or may not be written by this principal."""
        inboxes = ", ".join(self.topic(region) for region in sorted(regions))
        return (
            f"{inboxes} not visible to {self.principal}: missing, or no agreement in force "
            "grants it WRITE (`casesync access plan`)"
        )
