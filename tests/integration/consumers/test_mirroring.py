"""A partner mirrors a source region's cases exactly, once each, in order."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from casesync.adapters.postgres import connect, transaction
from casesync.domain.vocabulary import CaseState, EventType
from consumers import store
from consumers.planning import plan_batch
from consumers.records import Incoming

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


def _lookups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many event ids each lookup of applied ids asked for (a batch planned without them
    makes none)."""
    asked: list[int] = []
    read = store.read_applied_ids

    def spying(cur: Any, event_ids: Any) -> set[str]:
        asked.append(len(event_ids))
        return read(cur, event_ids)

    monkeypatch.setattr(store, "read_applied_ids", spying)
    return asked


def test_an_applied_event_id_changes_nothing_whatever_version_it_claims(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events reusing applied ids are ignored, neither held nor dead-lettered, whether they
    claim the next version (the history's unique index sends the batch back), one beyond it
    or an illegal step (a batch that would hold or refuse looks its ids up); a clean batch
    looks nothing up, and the real versions after them all apply."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    submitted = rudong.record(housing_cases(0, 3, steps=1))
    world.relay(RUDONG)
    lookups = _lookups(monkeypatch)
    world.consume(TONGXIANG, until_idle=2.0)
    assert lookups == [], "a clean batch looked its event ids up"
    accepted = rudong.record(housing_cases(0, 3, steps=2)[3:])
    reviewing = rudong.record(housing_cases(0, 3, steps=3)[6:])
    next_version = dataclasses.replace(accepted[0], event_id=submitted[1].event_id)
    beyond_next = dataclasses.replace(reviewing[1], event_id=submitted[2].event_id)
    illegal = dataclasses.replace(
        accepted[2],
        event_id=submitted[0].event_id,
        event_type=EventType.CASE_APPROVED,
        snapshot=dataclasses.replace(accepted[2].snapshot, state=CaseState.APPROVED),
    )
    for reused in (next_version, beyond_next, illegal):  # one way each, consumed on its own
        world.deliver(RUDONG, TONGXIANG, [(reused.case_id, world.codec.encode(reused))])
        world.consume(TONGXIANG, until_idle=2.0)
        assert tongxiang.query("SELECT count(*) FROM dead_letters") == [(0,)]
        assert tongxiang.query("SELECT count(*) FROM case_gaps") == [(0,)]
    world.relay(RUDONG)
    world.consume(TONGXIANG, until_idle=2.0)

    assert lookups, "no batch looked its event ids up"
    assert tongxiang.query("SELECT count(*) FROM dead_letters") == [(0,)]
    assert tongxiang.query("SELECT sum(ignored), sum(applied) FROM consumer_positions") == [(3, 9)]
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()


def test_a_case_another_writer_creates_during_a_batch_is_updated_not_refused(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case that enters the mirror after a batch found it absent (another writer applied its
    first version) sends the batch back to upsert it: nothing is dead-lettered, and the mirror
    ends as the source."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    events = rudong.record(housing_cases(0, 3, steps=2))
    world.relay(RUDONG)
    first_versions = {e.case_id: e for e in events if e.case_version == 1}
    raced: list[str] = []
    read = store.lock_and_read

    def read_then_another_writer_applies(cur: Any, expected: Any, case_ids: Any) -> store.Known:
        known = read(cur, expected, case_ids)
        if not raced and case_ids:
            raced.append(case_ids[0])
            first = first_versions[case_ids[0]]
            conn = connect(tongxiang.url)
            try:
                with transaction(conn) as other:
                    store.prepare_session(other)
                    elsewhere = Incoming("elsewhere", 0, 0, None, None)
                    store.write_plan(other, plan_batch([(elsewhere, first)], {}, (), {}))
            finally:
                conn.close()
        return known

    monkeypatch.setattr(store, "lock_and_read", read_then_another_writer_applies)
    lookups = _lookups(monkeypatch)

    consumer = world.consume(TONGXIANG, until_idle=2.0)

    assert raced, "no batch read the recorded cases"
    assert lookups, "the batch was not applied again carefully"
    assert consumer.stats.dead_lettered == 0
    assert tongxiang.query("SELECT version FROM mirror_cases WHERE case_id = %s", raced) == [(2,)]
    assert tongxiang.query("SELECT count(*) FROM mirror_history") == [(6,)]
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()
