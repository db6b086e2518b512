"""Per-case sequencing of a batch: apply in order, ignore repeats, hold gaps, dead-letter."""

from __future__ import annotations

from casesync.domain.vocabulary import CaseState, EventType
from consumers.planning import CaseHead, Held, event_ids, plan_batch
from consumers.records import Rejection, Stage

from .conftest import TOPIC, EventFactory, record_at


def _lifecycle(make_event: EventFactory, case_id: str = "c1") -> list:
    steps = [
        (EventType.CASE_SUBMITTED, CaseState.SUBMITTED),
        (EventType.CASE_ACCEPTED, CaseState.ACCEPTED),
        (EventType.REVIEW_STARTED, CaseState.UNDER_REVIEW),
        (EventType.CASE_APPROVED, CaseState.APPROVED),
    ]
    return [
        make_event(case_id=case_id, case_version=n, event_type=t, state=s)
        for n, (t, s) in enumerate(steps, start=1)
    ]


def test_events_in_order_all_apply_and_the_last_is_the_mirror_row(make_event: EventFactory) -> None:
    """A case's versions 1..4 in one batch all apply; the mirror row is version 4."""
    events = _lifecycle(make_event)
    plan = plan_batch([(record_at(i), e) for i, e in enumerate(events)], {}, (), {})
    assert [a.event.case_version for a in plan.applied] == [1, 2, 3, 4]
    assert plan.latest()["c1"].event.case_version == 4
    assert plan.next_offsets == {(TOPIC, 0): 4}
    assert plan.counts[(TOPIC, 0)].applied == 4


def test_only_cases_the_mirror_lacks_are_new(make_event: EventFactory) -> None:
    """A case without a head is new even when several of its versions apply; one with a head
    is not, and a case whose only event is held gets no mirror row."""
    fresh = _lifecycle(make_event, "c1")[:2]
    known = _lifecycle(make_event, "c2")[1]
    gap = _lifecycle(make_event, "c3")[2]
    batch = [*fresh, known, gap]
    plan = plan_batch(
        [(record_at(i), e) for i, e in enumerate(batch)],
        {"c2": CaseHead(1, CaseState.SUBMITTED)},
        (),
        {},
    )
    assert plan.new_cases == {"c1"}
    assert set(plan.latest()) == {"c1", "c2"}


def test_older_or_repeated_version_changes_nothing(make_event: EventFactory) -> None:
    """A version at or below the applied head is ignored, never written."""
    events = _lifecycle(make_event)
    plan = plan_batch(
        [(record_at(0), events[1]), (record_at(1), events[2])],
        {"c1": CaseHead(3, CaseState.UNDER_REVIEW)},
        (),
        {},
    )
    assert plan.applied == []
    assert plan.counts[(TOPIC, 0)].ignored == 2
    assert plan.next_offsets == {(TOPIC, 0): 2}


def test_repeated_event_id_changes_nothing(make_event: EventFactory) -> None:
    """An event id already applied is ignored even if it claims the next version."""
    first = _lifecycle(make_event)[0]
    plan = plan_batch([(record_at(0), first)], {}, {first.event_id}, {})
    assert plan.applied == []
    assert plan.counts[(TOPIC, 0)].ignored == 1


def test_gap_is_held_and_released_when_the_missing_version_arrives(
    make_event: EventFactory,
) -> None:
    """Version 3 before 2 waits; version 2 then applies, followed by 3, in that order."""
    _, v2, v3, _ = _lifecycle(make_event)
    held_plan = plan_batch([(record_at(5), v3)], {"c1": CaseHead(1, CaseState.SUBMITTED)}, (), {})
    assert [(h.event.case_version, h.expected_version) for h in held_plan.held] == [(3, 2)]
    assert held_plan.applied == []
    earlier = {"c1": {3: Held(record_at(5), v3, 2)}}
    plan = plan_batch([(record_at(6), v2)], {"c1": CaseHead(1, CaseState.SUBMITTED)}, (), earlier)
    assert [a.event.case_version for a in plan.applied] == [2, 3]
    assert plan.released == [("c1", 3)]
    assert plan.applied[1].record.offset == 5


def test_a_held_event_whose_id_was_applied_meanwhile_is_released_and_ignored(
    make_event: EventFactory,
) -> None:
    """Version 2 arrives; the held version 3 carries an id applied since: its hold is deleted,
    it is counted as ignored, and it does not apply."""
    _, v2, v3, _ = _lifecycle(make_event)
    earlier = {"c1": {3: Held(record_at(5), v3, 2)}}
    plan = plan_batch(
        [(record_at(6), v2)], {"c1": CaseHead(1, CaseState.SUBMITTED)}, {v3.event_id}, earlier
    )
    assert [a.event.case_version for a in plan.applied] == [2]
    assert plan.released == [("c1", 3)]
    assert plan.counts[(TOPIC, 0)].ignored == 1


def test_a_plan_that_holds_or_refuses_needs_the_applied_ids(make_event: EventFactory) -> None:
    """Applying and ignoring stand without knowing the applied ids; holding a gap or refusing
    a transition does not (an id applied before would make either an ignore)."""
    v1, v2, v3, _ = _lifecycle(make_event)
    head = {"c1": CaseHead(1, CaseState.SUBMITTED)}
    assert plan_batch(
        [(record_at(0), v1), (record_at(1), v2)], {}, (), {}
    ).stands_without_applied_ids()
    assert plan_batch([(record_at(0), v1)], head, (), {}).stands_without_applied_ids()
    assert not plan_batch([(record_at(0), v3)], head, (), {}).stands_without_applied_ids()
    bad = make_event(case_version=2, event_type=EventType.CASE_APPROVED, state=CaseState.APPROVED)
    assert not plan_batch([(record_at(0), bad)], head, (), {}).stands_without_applied_ids()


def test_event_ids_are_the_batch_and_the_held_events(make_event: EventFactory) -> None:
    """The ids a plan looks up are its events' and those of the held events it may release."""
    v1, _, v3, _ = _lifecycle(make_event)
    assert event_ids([v1], {"c1": {3: Held(record_at(5), v3, 2)}}) == [v1.event_id, v3.event_id]


def test_gap_held_and_filled_in_one_batch_leaves_no_hold(make_event: EventFactory) -> None:
    """Versions 1, 3, 2 in one batch apply as 1, 2, 3 and nothing stays held."""
    v1, v2, v3, _ = _lifecycle(make_event)
    plan = plan_batch([(record_at(0), v1), (record_at(1), v3), (record_at(2), v2)], {}, (), {})
    assert [a.event.case_version for a in plan.applied] == [1, 2, 3]
    assert plan.held == []
    assert plan.released == []


def test_illegal_transition_is_dead_lettered_and_the_partition_goes_on(
    make_event: EventFactory,
) -> None:
    """Approval straight after submission is dead-lettered; the next case still applies."""
    bad = make_event(case_version=2, event_type=EventType.CASE_APPROVED, state=CaseState.APPROVED)
    other = make_event(case_id="c2")
    plan = plan_batch(
        [(record_at(0), bad), (record_at(1), other)],
        {bad.case_id: CaseHead(1, CaseState.SUBMITTED)},
        (),
        {},
    )
    assert [(r.offset, why.error_class, why.stage) for r, why in plan.dead] == [
        (0, "IllegalTransition", Stage.SEQUENCE)
    ]
    assert [a.event.case_id for a in plan.applied] == ["c2"]


def test_rejections_advance_the_position(make_event: EventFactory) -> None:
    """Dead letters are counted and passed, never blocking."""
    decode = Rejection(Stage.DECODE, "NotSingleObjectEncoded", "no marker")
    misaddressed = Rejection(Stage.VALIDATE, "Misaddressed", "for 640100")
    plan = plan_batch([(record_at(0), decode), (record_at(1), misaddressed)], {}, (), {})
    counts = plan.counts[(TOPIC, 0)]
    assert counts.dead_lettered == 2
    assert plan.next_offsets == {(TOPIC, 0): 2}
