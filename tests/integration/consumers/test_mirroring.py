"""A partner mirrors a source region's cases exactly, once each, in order."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from casesync.adapters.copying import copy_lines
from casesync.adapters.postgres import connect, transaction
from consumers import store

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


def _careful_reads(monkeypatch: pytest.MonkeyPatch, after_read: Any = None) -> list[int]:
    """Counts, batch by batch, the event ids each batch looked up (only a careful batch does);
    ``after_read(case_ids)`` runs once the batch has read its cases (as another writer)."""
    looked_up: list[int] = []
    read = store.lock_and_read

    def spying(cur: Any, expected: Any, case_ids: Any, event_ids: Any) -> store.Known:
        looked_up.append(len(event_ids))
        known = read(cur, expected, case_ids, event_ids)
        if after_read is not None:
            after_read(case_ids)
        return known

    monkeypatch.setattr(store, "lock_and_read", spying)
    return looked_up


def test_an_applied_event_id_on_a_newer_version_changes_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event that reuses an applied event's id for its case's next version is ignored, not
    dead-lettered: the history's unique index sends the batch back to look its ids up."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    submitted = rudong.record(housing_cases(0, 2, steps=1))
    world.relay(RUDONG)
    world.consume(TONGXIANG, until_idle=2.0)
    accepted = rudong.record(housing_cases(0, 2, steps=2)[2:])
    reused = dataclasses.replace(accepted[0], event_id=submitted[1].event_id)
    world.send(world.names.events(RUDONG), [(reused.case_id, world.codec.encode(reused))])
    world.relay(RUDONG)
    looked_up = _careful_reads(monkeypatch)

    consumer = world.consume(TONGXIANG, until_idle=2.0)

    assert any(looked_up), "no batch looked its event ids up"
    assert consumer.stats.dead_lettered == 0
    assert tongxiang.query("SELECT sum(ignored), sum(applied) FROM consumer_positions") == [(1, 4)]
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()


def test_a_case_another_writer_creates_during_a_batch_is_updated_not_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case that enters the mirror after a batch found it absent (another writer) sends the
    batch back for the upsert: nothing is dead-lettered, and the mirror ends as the source."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    events = rudong.record(housing_cases(0, 3, steps=2))
    world.relay(RUDONG)
    first_versions = {e.case_id: e for e in events if e.case_version == 1}
    raced: list[str] = []

    def other_writer_creates(case_ids: list[str]) -> None:
        if raced or not case_ids:
            return
        raced.append(case_ids[0])
        conn = connect(tongxiang.url)
        try:
            with transaction(conn) as cur:
                line = store.mirror_line(first_versions[case_ids[0]])
                copy_lines(cur, "mirror_cases", store.MIRROR_COLUMNS, [line])
        finally:
            conn.close()

    looked_up = _careful_reads(monkeypatch, other_writer_creates)

    consumer = world.consume(TONGXIANG, until_idle=2.0)

    assert raced, "no batch read the recorded cases"
    assert any(looked_up), "the batch did not meet the other writer's row"
    assert consumer.stats.dead_lettered == 0
    assert tongxiang.query("SELECT version FROM mirror_cases WHERE case_id = %s", raced) == [(2,)]
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()
