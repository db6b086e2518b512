"""The health verdict rules of ``ops status``, one rule per test."""

from __future__ import annotations

from casesync.ops.status import (
    Sample,
    Thresholds,
    Verdict,
    exit_code,
    judge_outbox,
    judge_partition,
    lag_seconds,
    worst,
)
from producers.outbox_store import RelayHealth


def test_a_quiet_caught_up_partition_is_ok_however_long_nothing_moved() -> None:
    """Lag 0 is OK even when the position last moved a day ago: no noisy alert on quiet topics."""
    s = Sample(0, 100, 100)
    assert judge_partition(s, s, moved_ago_s=86_400).verdict is Verdict.OK


def test_lag_counts_from_the_position_or_the_log_start_when_never_consumed() -> None:
    """Lag is end minus position, and end minus log start for a partition never consumed."""
    assert Sample(0, 100, 40).lag == 60
    assert Sample(30, 100, None).lag == 70
    assert Sample(0, 0, None).lag == 0


def test_a_moving_position_whose_lag_does_not_grow_is_ok() -> None:
    """A consumer that advances and keeps the lag level or shrinking is OK."""
    judged = judge_partition(Sample(0, 100, 40), Sample(0, 110, 60), moved_ago_s=0.1)
    assert judged.verdict is Verdict.OK


def test_a_moving_position_with_growing_lag_warns() -> None:
    """The consumer moves but falls behind: WARN."""
    judged = judge_partition(Sample(0, 100, 40), Sample(0, 200, 50), moved_ago_s=0.1)
    assert judged.verdict is Verdict.WARN
    assert "60 to 150" in judged.reason


def test_lag_with_a_position_unmoved_in_the_window_but_moved_recently_stalls() -> None:
    """Lag exists and the position did not move during the window: STALL."""
    s = Sample(0, 100, 40)
    assert judge_partition(s, s, moved_ago_s=20).verdict is Verdict.STALL


def test_lag_with_a_position_unmoved_for_long_stops() -> None:
    """Lag exists and nothing moved for longer than stop_after: STOP."""
    s = Sample(0, 100, 40)
    judged = judge_partition(s, s, moved_ago_s=301, thresholds=Thresholds(stop_after_s=300))
    assert judged.verdict is Verdict.STOP


def test_lag_on_a_partition_never_consumed_stops() -> None:
    """Records wait on a partition the consumer never stored a position for: STOP."""
    s = Sample(0, 5, None)
    assert judge_partition(s, s, moved_ago_s=None).verdict is Verdict.STOP


def test_a_position_beyond_the_log_end_is_an_error() -> None:
    """A stored position past the end means the topic was recreated or truncated: ERR."""
    s = Sample(0, 10, 50)
    assert judge_partition(s, s, moved_ago_s=1).verdict is Verdict.ERR


def test_a_position_below_the_log_start_with_records_owed_is_an_error() -> None:
    """Retention deleted records before they were applied: ERR."""
    s = Sample(80, 100, 40)
    judged = judge_partition(s, s, moved_ago_s=1)
    assert judged.verdict is Verdict.ERR
    assert "40..79" in judged.reason


def test_the_worst_verdict_wins_and_only_err_fails_by_default() -> None:
    """worst() orders OK < WARN < STALL < STOP < ERR; the exit code is 1 from fail_on up."""
    assert worst([Verdict.OK, Verdict.STOP, Verdict.WARN]) is Verdict.STOP
    assert worst([]) is Verdict.OK
    assert exit_code(Verdict.STOP) == 0
    assert exit_code(Verdict.ERR) == 1
    assert exit_code(Verdict.WARN, fail_on=Verdict.WARN) == 1


def test_lag_seconds_is_the_age_of_the_oldest_unapplied_record() -> None:
    """Lag in seconds is now minus the oldest unapplied record's timestamp, 0 without one."""
    assert lag_seconds(1_000, 4_500) == 3.5
    assert lag_seconds(None, 4_500) == 0.0
    assert lag_seconds(5_000, 4_500) == 0.0


def test_an_outbox_whose_relay_cannot_publish_is_err_with_the_relays_reason() -> None:
    """The relay's own report (broker away) makes the outbox ERR at once, naming the reason."""
    relay = RelayHealth(publishing=False, reason="no acknowledgement for 12 s", for_s=12,
                        reported_s_ago=1)  # fmt: skip
    judged = judge_outbox(5710, 14.0, relay)
    assert judged.verdict is Verdict.ERR
    assert "no acknowledgement for 12 s" in judged.reason
    assert "5710 rows wait" in judged.reason


def test_an_outbox_that_publishes_is_ok_and_warns_then_errs_as_its_oldest_row_ages() -> None:
    """Rows that wait briefly are OK; older than the warning age WARN; older than stop_after ERR
    (a relay that is not running reports nothing, so the age alone must tell)."""
    publishing = RelayHealth(publishing=True, reason="", for_s=100, reported_s_ago=100)
    limits = Thresholds(stop_after_s=300, outbox_warn_after_s=60)
    assert judge_outbox(0, None, publishing, limits).verdict is Verdict.OK
    assert judge_outbox(40, 2.0, publishing, limits).verdict is Verdict.OK
    assert judge_outbox(40, 61.0, publishing, limits).verdict is Verdict.WARN
    assert judge_outbox(40, 301.0, None, limits).verdict is Verdict.ERR


def test_a_relay_that_last_could_not_publish_but_owes_nothing_leaves_the_outbox_ok() -> None:
    """No rows wait: nothing is owed, whatever the relay last said."""
    relay = RelayHealth(publishing=False, reason="x", for_s=5, reported_s_ago=5)
    assert judge_outbox(0, None, relay).verdict is Verdict.OK


def test_rows_held_for_an_inbox_it_may_not_write_are_an_error_naming_topic_and_principal() -> None:
    """Held rows are ERR with the relay's reason (the topic and principal), though the relay
    publishes everything else."""
    reason = "t.inbox.330483 not visible to User:320623: missing, or no agreement grants WRITE"
    relay = RelayHealth(publishing=True, reason="", for_s=30, reported_s_ago=1, held_rows=3,
                        held_reason=reason)  # fmt: skip
    judged = judge_outbox(3, 2.0, relay)
    assert judged.verdict is Verdict.ERR
    assert "3 rows held" in judged.reason
    assert "t.inbox.330483" in judged.reason
    assert "User:320623" in judged.reason
