"""A client constructor that never returns (a frozen broker) costs a bounded wait, once."""

from __future__ import annotations

import threading

import pytest
from kafka.errors import KafkaTimeoutError

from casesync.adapters.bounded_build import BoundedBuild


def test_a_constructor_that_hangs_gives_a_timeout_and_the_next_call_waits_for_the_same_one() -> (
    None
):
    """The first call times out; a second call does not start another build but gets the
    client of the first once it arrives."""
    release, started = threading.Event(), []

    def factory() -> str:
        started.append(1)
        release.wait(5)
        return "client"

    build = BoundedBuild(factory, timeout_s=0.1)
    with pytest.raises(KafkaTimeoutError):
        build.get()
    release.set()
    assert build.get() == "client"
    assert len(started) == 1


def test_a_constructor_error_reaches_the_caller_as_it_was() -> None:
    """What the constructor raised (a refused login, a bad setting) is raised by get()."""

    def factory() -> str:
        raise ValueError("bad setting")

    with pytest.raises(ValueError, match="bad setting"):
        BoundedBuild(factory, timeout_s=1).get()
