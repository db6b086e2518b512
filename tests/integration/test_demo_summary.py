"""The demo's per-region summary against the real broker and database: records verified and
records refused at verification, side by side."""

from __future__ import annotations

import pytest

from casesync.adapters.kafka_clients import new_producer
from casesync.demo import summary
from casesync.testing_regions import RegionFactory
from consumers.records import SOURCE_HEADER, TARGET_HEADER

pytestmark = pytest.mark.integration

RUDONG, TONGXIANG = "320623", "330483"


def test_the_summary_shows_per_region_the_records_verified_and_those_refused(
    region_factory: RegionFactory,
) -> None:
    """Rudong's signed events and one unsigned record in Tongxiang's inbox: Tongxiang's figures
    count every signed event as verified and the unsigned one as refused, and the summary
    table prints both numbers in its verified and refused columns."""
    rudong, tongxiang = region_factory(RUDONG), region_factory(TONGXIANG)
    events = rudong.simulate(5, seed=2, partners=[TONGXIANG])
    rudong.relay()
    producer = new_producer(tongxiang.settings.kafka, acks="all")
    try:
        routing = [(SOURCE_HEADER, RUDONG.encode()), (TARGET_HEADER, TONGXIANG.encode())]
        producer.send(tongxiang.inbox, key=b"320623-forged", value=b"forged", headers=routing)
        producer.flush()
    finally:
        producer.close()
    tongxiang.consume()

    figures = summary.region_figures(tongxiang.url, TONGXIANG, "桐乡市")
    assert (figures.verified, figures.refused_unverified) == (events, 1)
    assert (figures.applied, figures.dead_lettered) == (events, 1)
    header, row = summary.table([figures]).splitlines()
    assert header.split()[3:5] == ["verified", "refused"]
    assert row.split()[4:6] == [f"{events:,}", "1"]
