"""A partner mirrors a source region's cases exactly, once each, in order."""

from __future__ import annotations

import pytest

from .conftest import RUDONG, TONGXIANG, World, housing_cases

pytestmark = pytest.mark.integration


def test_partner_mirror_digest_equals_source_owned_digest(world: World) -> None:
    """After consuming, Tongxiang's mirror of Rudong digests exactly like Rudong's own cases."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    rudong.record(housing_cases(0, 200))
    assert world.relay(RUDONG) == 1000
    consumer = world.consume(TONGXIANG)
    assert consumer.stats.applied == 1000
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()
    assert tongxiang.query("SELECT count(*), count(DISTINCT event_id) FROM mirror_history") == [
        (1000, 1000)
    ]
