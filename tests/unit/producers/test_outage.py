"""What the relay says about a broker outage: once when it starts, reminders, once when it ends."""

from __future__ import annotations

from producers.outage import Notice, OutageClock


def test_an_outage_is_announced_once_then_reminded_at_the_interval_not_per_failure() -> None:
    """Many failures in a minute give one start notice and then one reminder per interval."""
    clock = OutageClock(remind_every_s=60)
    notices = [clock.failed(t * 0.5, "refused") for t in range(0, 250)]  # 125 s of failures
    assert notices[0] is Notice.STARTED
    assert notices.count(Notice.CONTINUES) == 2  # at 60 s and 120 s
    assert sum(n is not None for n in notices) == 3


def test_the_first_acknowledgement_ends_the_outage_with_how_long_it_lasted() -> None:
    """Publishing after failures ends the outage once, reporting its length and last reason."""
    clock = OutageClock()
    clock.failed(10.0, "refused")
    clock.failed(40.0, "no acknowledgement for 30 s")
    ended = clock.published(160.0)
    assert ended is not None
    assert ended.lasted_s == 150.0
    assert ended.reason == "no acknowledgement for 30 s"
    assert not clock.ongoing
    assert clock.published(161.0) is None  # publishing when all is well says nothing


def test_a_new_outage_after_one_ended_is_announced_again() -> None:
    """Each outage gets its own start notice."""
    clock = OutageClock()
    assert clock.failed(0.0, "a") is Notice.STARTED
    clock.published(5.0)
    assert clock.failed(6.0, "b") is Notice.STARTED
    assert clock.lasted(9.0) == 3.0
