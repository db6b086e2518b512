"""The ``verify`` stage: a record is applied only if its source region signed it as it is.

Each failure is a rejection in stage ``verify`` with its class (``Unsigned``, ``BadSignature``,
``UnknownKey``, ``KeyNotValidThen``, ``SignerNotSource``). Without a manifest in force nothing
can be verified: ``AwaitingManifest`` (transient) makes the caller wait and retry the batch, and
the wait is logged when it starts and every ``remind_every_s`` while it lasts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog

from casesync.trust.anchor import TrustAnchor
from casesync.trust.errors import NoTrustedManifest
from casesync.trust.verify import Verifier
from consumers.errors import AwaitingManifest
from consumers.records import Incoming, Rejection, Stage

log = structlog.get_logger(__name__)


class VerifyStep:
    """Verifies the records of ``region``'s inbox (the target their signatures must name)."""

    def __init__(
        self,
        region: str,
        anchor: TrustAnchor,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        remind_every_s: float = 60.0,
    ) -> None:
        self.region = region
        self._anchor = anchor
        self._verifier = Verifier(anchor.holder)
        self._clock = clock
        self._remind_every_s = remind_every_s
        self._waiting_since: float | None = None
        self._last_told = 0.0
        self.verified = 0
        self.refused = 0

    def __call__(self, records: Sequence[Incoming]) -> list[Rejection | None]:
        """Per record, None when it verifies and its rejection when not; AwaitingManifest
        (nothing checked) when no manifest is in force."""
        self._anchor.start()  # the first batch reads the manifest sources; then a no-op
        try:
            failures = self._verifier.refusals(records, self.region, self._clock())
        except NoTrustedManifest as e:
            self._tell_waiting(str(e))
            raise AwaitingManifest(str(e)) from None
        refused = len(failures) - failures.count(None)
        self.verified += len(failures) - refused
        self.refused += refused
        if self._waiting_since is not None:
            log.info("manifest in force again; verifying and applying",
                     region=self.region,
                     waited_s=round(time.monotonic() - self._waiting_since))  # fmt: skip
            self._waiting_since = None
        if not refused:
            return [None] * len(failures)
        return [None if f is None else Rejection.of(Stage.VERIFY, f) for f in failures]

    def _tell_waiting(self, reason: str) -> None:
        now = time.monotonic()
        if self._waiting_since is None:
            self._waiting_since = self._last_told = now
            log.warning("no manifest in force: nothing is verified or applied until one is",
                        region=self.region, reason=reason)  # fmt: skip
        elif now - self._last_told >= self._remind_every_s:
            self._last_told = now
            log.warning("still no manifest in force; records wait", region=self.region,
                        reason=reason, waited_s=round(now - self._waiting_since))  # fmt: skip
