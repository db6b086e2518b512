"""Which target inboxes the relay may send to now, asked of the cluster as seldom as possible."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from casesync.adapters.topics import TopicNames
from casesync.errors import Unreachable
from producers.routing import Inboxes

NAMES = TopicNames("t.")
RUDONG, TONGXIANG, SUZHOU = "320623", "330483", "320500"


class _Cluster:
    """Topic listings as a broker would answer them, counting how often it was asked."""

    def __init__(self, *topics: str) -> None:
        self.topics = set(topics)
        self.asked = 0
        self.reachable = True

    def list_topics(self) -> Collection[str]:
        self.asked += 1
        if not self.reachable:
            raise Unreachable("Kafka", "127.0.0.1:1", "no answer")
        return set(self.topics)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _inboxes(cluster: _Cluster, clock: _Clock | None = None) -> Inboxes:
    return Inboxes(NAMES, cluster.list_topics, recheck_s=5.0, clock=clock or _Clock())


def test_a_region_s_inbox_is_named_under_the_prefix() -> None:
    """The topic of a target is its inbox under the topic prefix."""
    assert _inboxes(_Cluster()).topic(TONGXIANG) == "t.inbox.330483"


def test_targets_whose_inbox_the_cluster_lacks_are_missing() -> None:
    """Only the targets whose inbox is not listed are reported missing."""
    inboxes = _inboxes(_Cluster("t.inbox.330483", "t.inbox.320623.other"))
    assert inboxes.missing({TONGXIANG, RUDONG, SUZHOU}) == {RUDONG, SUZHOU}


def test_an_inbox_once_seen_is_not_asked_about_again() -> None:
    """Targets all seen before need no listing: the relay's hot path asks the cluster nothing."""
    cluster, clock = _Cluster("t.inbox.330483"), _Clock()
    inboxes = _inboxes(cluster, clock)
    assert inboxes.missing({TONGXIANG}) == set()
    cluster.topics.clear()  # even were it deleted: once seen, an inbox is taken to stay
    for step in range(100):
        clock.now = step * 10.0
        assert inboxes.missing({TONGXIANG}) == set()
    assert cluster.asked == 1


def test_while_an_inbox_is_missing_the_cluster_is_asked_at_most_every_recheck() -> None:
    """A missing inbox is looked for again only after ``recheck_s``, then found once created."""
    cluster, clock = _Cluster(), _Clock()
    inboxes = _inboxes(cluster, clock)
    for tick in range(10):  # 4.5 s of sends, one every half second
        clock.now = tick * 0.5
        assert inboxes.missing({TONGXIANG}) == {TONGXIANG}
    assert cluster.asked == 1
    cluster.topics.add("t.inbox.330483")
    clock.now = 4.9
    assert inboxes.missing({TONGXIANG}) == {TONGXIANG}  # not yet looked for again
    clock.now = 5.0
    assert inboxes.missing({TONGXIANG}) == set()
    assert cluster.asked == 2


def test_an_unreachable_cluster_leaves_unconfirmed_inboxes_missing_and_raises_nothing() -> None:
    """When the topics cannot be listed, unseen targets count as missing (their rows wait);
    targets seen before stay sendable."""
    cluster, clock = _Cluster("t.inbox.330483"), _Clock()
    inboxes = _inboxes(cluster, clock)
    assert inboxes.missing({TONGXIANG}) == set()
    cluster.reachable = False
    clock.now = 10.0
    assert inboxes.missing({TONGXIANG, SUZHOU}) == {SUZHOU}


@pytest.mark.parametrize("regions", [set(), {TONGXIANG}])
def test_no_targets_or_known_targets_need_no_listing(regions: set[str]) -> None:
    """Asking about nothing, or only about seen inboxes, never lists topics."""
    cluster = _Cluster("t.inbox.330483")
    inboxes = _inboxes(cluster)
    inboxes.missing({TONGXIANG})
    assert inboxes.missing(regions) == set()
    assert cluster.asked == 1


def test_after_a_recheck_an_inbox_no_longer_listed_is_missing_again() -> None:
    """A refused send makes the relay recheck: an inbox the principal no longer sees (its WRITE
    revoked) is missing again at once, and present again once it is listed."""
    cluster, clock = _Cluster("t.inbox.330483"), _Clock()
    inboxes = _inboxes(cluster, clock)
    assert inboxes.missing({TONGXIANG}) == set()
    cluster.topics.clear()
    inboxes.recheck()
    assert inboxes.missing({TONGXIANG}) == {TONGXIANG}
    cluster.topics.add("t.inbox.330483")
    clock.now = 5.0
    assert inboxes.missing({TONGXIANG}) == set()


def test_the_reason_for_held_rows_names_each_inbox_and_the_principal() -> None:
    """Why rows are held: the inboxes not visible and who cannot see them."""
    inboxes = Inboxes(NAMES, _Cluster().list_topics, principal="User:320623")
    reason = inboxes.why_missing({TONGXIANG, SUZHOU})
    assert reason.startswith("t.inbox.320500, t.inbox.330483 not visible to User:320623")
