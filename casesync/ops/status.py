"""Health verdicts of a region's consumption, in the spirit of Burrow's rules: pure.

Each partner partition is judged from two samples taken ``window`` seconds apart (end offset and
stored position each time) and from when its position last moved (``consumer_positions``; for a
partition never consumed, when the consumer last moved any position, None if it never did):

  ERR    the stored position is beyond the end of the log, or below its start while records are
         still owed: records were lost (topic recreated, retention outran the consumer);
  OK     no lag, however long nothing moved: a quiet topic is healthy (no noisy alerts);
  STOP   lag, and the position has not moved for ``stop_after`` seconds (or never existed);
  STALL  lag, and the position did not move during the window, though it moved recently;
  WARN   the position moves, but the lag grew between the samples: the consumer falls behind;
  OK     otherwise (the position moves and the lag does not grow).

A region whose database or broker cannot be reached is ERR as a whole. The worst verdict wins.

The region's own outbox is judged too (``judge_outbox``): ERR while its relay reports that it
holds rows for an inbox its principal cannot see (naming the topic and principal), or that it
cannot publish (with the relay's reason), or when the oldest waiting row is ``stop_after`` old,
WARN once it is ``outbox_warn_after`` old.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from casesync.trust.manifest import Manifest
from producers.outbox_store import RelayHealth


class Verdict(IntEnum):
    """Health of a partition or a region, ordered from good to bad."""

    OK = 0
    WARN = 1
    STALL = 2
    STOP = 3
    ERR = 4


@dataclass(frozen=True, slots=True)
class Sample:
    """One look at a partition: the log's bounds and the stored position (None: never read)."""

    log_start: int
    end_offset: int
    position: int | None

    @property
    def lag(self) -> int:
        """Records still to consume (from the log start when nothing was ever consumed)."""
        start = self.log_start if self.position is None else max(self.position, self.log_start)
        return max(0, self.end_offset - start)


@dataclass(frozen=True, slots=True)
class Judgement:
    """A partition's verdict and the one-line reason an operator reads."""

    verdict: Verdict
    reason: str


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How long counts as "for long"."""

    stop_after_s: float = 300.0
    outbox_warn_after_s: float = 60.0


def judge_partition(
    first: Sample,
    second: Sample,
    moved_ago_s: float | None,
    thresholds: Thresholds = Thresholds(),
) -> Judgement:
    """The verdict of one partition from two samples and the age of its last position move
    (None: no move ever)."""
    position = second.position
    if position is not None and position > second.end_offset:
        return Judgement(
            Verdict.ERR, f"position {position} is beyond the log end {second.end_offset}"
        )
    if position is not None and position < second.log_start and second.lag > 0:
        return Judgement(
            Verdict.ERR,
            f"records {position}..{second.log_start - 1} were deleted before being applied",
        )
    if second.lag == 0:
        return Judgement(Verdict.OK, "caught up")
    moved_in_window = first.position != second.position
    if not moved_in_window:
        if moved_ago_s is None or moved_ago_s >= thresholds.stop_after_s:
            since = "never consumed" if moved_ago_s is None else f"unmoved for {moved_ago_s:.0f} s"
            return Judgement(Verdict.STOP, f"lag {second.lag}, {since}")
        return Judgement(
            Verdict.STALL, f"lag {second.lag}, position unmoved (last move {moved_ago_s:.0f} s ago)"
        )
    if second.lag > first.lag:
        return Judgement(Verdict.WARN, f"lag grew from {first.lag} to {second.lag}")
    return Judgement(Verdict.OK, f"consuming, lag {second.lag}")


def judge_outbox(
    unpublished: int,
    oldest_age_s: float | None,
    relay: RelayHealth | None,
    thresholds: Thresholds = Thresholds(),
) -> Judgement:
    """The verdict of the region's outbox: are its committed changes reaching the broker?"""
    if relay is not None and relay.held_rows and unpublished:
        return Judgement(
            Verdict.ERR, f"{relay.held_rows} rows held in the outbox: {relay.held_reason}"
        )
    if relay is not None and not relay.publishing and unpublished:
        return Judgement(
            Verdict.ERR,
            f"relay cannot publish for {relay.for_s:.0f} s ({relay.reason}); "
            f"{unpublished} rows wait",
        )
    if not unpublished or oldest_age_s is None:
        return Judgement(Verdict.OK, "all published")
    if oldest_age_s >= thresholds.stop_after_s:
        return Judgement(
            Verdict.ERR,
            f"{unpublished} rows wait, the oldest {oldest_age_s:.0f} s: is the relay running?",
        )
    if oldest_age_s >= thresholds.outbox_warn_after_s:
        return Judgement(Verdict.WARN, f"{unpublished} rows wait, the oldest {oldest_age_s:.0f} s")
    return Judgement(Verdict.OK, f"{unpublished} rows being published")


MANIFEST_WARN_WITHIN = timedelta(days=7)
MANIFEST_ERR_WITHIN = timedelta(days=1)


def judge_manifest(held: Manifest | None, now: datetime, refusals: Sequence[str] = ()) -> Judgement:
    """The verdict of the manifest in force: ERR when none is (or it expires within a day:
    verification stops when it does), WARN within a week. With none in force the reason names
    the ``refusals`` (why the manifests found were refused: expired, badly signed)."""
    if held is None:
        why = f" ({'; '.join(refusals)})" if refusals else ""
        return Judgement(Verdict.ERR, f"no valid manifest: nothing can be verified{why}")
    left = held.expires_at - now
    when = f"version {held.version} expires {held.expires_at.isoformat()}"
    if left <= timedelta(0):
        return Judgement(Verdict.ERR, f"{when}: expired, nothing can be verified")
    if left <= MANIFEST_ERR_WITHIN:
        return Judgement(Verdict.ERR, f"{when}, in {left.total_seconds() / 3600:.0f} h")
    if left <= MANIFEST_WARN_WITHIN:
        return Judgement(Verdict.WARN, f"{when}, in {left.days} day(s)")
    return Judgement(Verdict.OK, when)


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst of ``verdicts`` (OK when there are none)."""
    return max(verdicts, default=Verdict.OK)


def exit_code(verdict: Verdict, fail_on: Verdict = Verdict.ERR) -> int:
    """1 when ``verdict`` is at least ``fail_on`` (an alert should fire), else 0."""
    return 1 if verdict >= fail_on else 0


def lag_seconds(oldest_unapplied_ms: int | None, now_ms: int) -> float:
    """How far behind a partition is: the age of its oldest unapplied record (0 if none)."""
    if oldest_unapplied_ms is None:
        return 0.0
    return max(0.0, (now_ms - oldest_unapplied_ms) / 1000)
