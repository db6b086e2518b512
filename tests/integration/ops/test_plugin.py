"""The pytest plugin's fixtures, as a regional system's test suite would use them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from casesync.testing_regions import RegionFactory, TestRegion

from .conftest import RUDONG, TONGXIANG

pytestmark = pytest.mark.integration

DATA = Path(__file__).resolve().parents[2] / "data"
SAMPLE = DATA / "rudong_to_tongxiang.avro"  # recorded before regions signed: replayed unverified
EXPECTED = json.loads((DATA / "rudong_to_tongxiang.json").read_text())


def test_the_recorded_sample_replays_to_its_source_digest(
    replay_into: Callable[..., TestRegion],
) -> None:
    """Replaying the shipped sample into a fresh Tongxiang gives the digest Rudong had."""
    tongxiang = replay_into(SAMPLE, TONGXIANG, verify=False)
    assert tongxiang.mirror_digest(RUDONG) == (EXPECTED["owned_digest"], EXPECTED["cases"])


def test_replaying_the_sample_twice_applies_it_once(
    replay_into: Callable[..., TestRegion],
) -> None:
    """A second replay of the same recording into the same region skips every record."""
    tongxiang = replay_into(SAMPLE, TONGXIANG, verify=False)
    stats = tongxiang.replay(SAMPLE, verify=False)
    assert (stats.records, stats.skipped, stats.applied) == (EXPECTED["events"],) * 2 + (0,)
    assert tongxiang.query("SELECT count(*) FROM mirror_history") == [(EXPECTED["events"],)]


def test_region_factory_regions_share_topics_and_mirror_each_other(
    region_factory: RegionFactory, casesync_kafka_bootstrap: str
) -> None:
    """Two regions of one factory: the source's relay and the partner's consumer (the real ones)
    leave the partner's mirror equal to the source's own cases."""
    rudong, tongxiang = region_factory(RUDONG), region_factory(TONGXIANG)
    assert rudong.settings.topic_prefix == tongxiang.settings.topic_prefix
    assert rudong.settings.kafka_bootstrap == casesync_kafka_bootstrap
    recorded = rudong.simulate(15, seed=2, partners=[TONGXIANG])
    assert rudong.relay() == recorded
    stats = tongxiang.consume()
    assert stats.applied == recorded
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()
