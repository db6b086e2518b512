"""The case state machine per handling mode."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casesync.domain.errors import IllegalTransition
from casesync.domain.lifecycle import (
    TERMINAL_STATES,
    TRANSITIONS,
    allowed_events,
    is_terminal,
    next_state,
)
from casesync.domain.vocabulary import CaseState, EventType, HandlingMode

E = EventType
S = CaseState


def _walk(mode: HandlingMode, events: list[EventType]) -> CaseState | None:
    state: CaseState | None = None
    for event in events:
        state = next_state(mode, state, event)
    return state


HAPPY_PATHS = {
    HandlingMode.FULLY_ONLINE: [
        E.CASE_SUBMITTED, E.CASE_ACCEPTED, E.REVIEW_STARTED, E.CASE_APPROVED, E.RESULT_DELIVERED,
    ],
    HandlingMode.ACCEPTED_ELSEWHERE: [
        E.CASE_SUBMITTED, E.CASE_ACCEPTED, E.CASE_FORWARDED, E.REVIEW_STARTED, E.CASE_APPROVED,
        E.RESULT_DELIVERED,
    ],
    HandlingMode.JOINT: [
        E.CASE_SUBMITTED, E.CASE_ACCEPTED, E.STEP_REQUESTED, E.STEP_COMPLETED, E.CASE_APPROVED,
        E.RESULT_DELIVERED,
    ],
}  # fmt: skip


@pytest.mark.parametrize("mode", list(HandlingMode))
def test_happy_path_ends_delivered(mode: HandlingMode) -> None:
    """Each mode's ordinary path from submission ends in DELIVERED."""
    assert _walk(mode, HAPPY_PATHS[mode]) is S.DELIVERED


@pytest.mark.parametrize("mode", list(HandlingMode))
def test_materials_requested_returns_to_submitted(mode: HandlingMode) -> None:
    """补正 and supplying the materials bring the case back to SUBMITTED."""
    events = [E.CASE_SUBMITTED, E.MATERIALS_REQUESTED, E.MATERIALS_SUPPLIED]
    assert _walk(mode, events) is S.SUBMITTED


@pytest.mark.parametrize("mode", list(HandlingMode))
def test_refusal_at_intake_is_terminal(mode: HandlingMode) -> None:
    """不予受理 ends the case; nothing may follow it."""
    assert _walk(mode, [E.CASE_SUBMITTED, E.CASE_REFUSED]) is S.REFUSED
    assert allowed_events(mode, S.REFUSED) == frozenset()


def test_accepted_elsewhere_must_forward_before_review() -> None:
    """In 异地代收代办 review cannot start until the accepting region has forwarded (转办)."""
    mode = HandlingMode.ACCEPTED_ELSEWHERE
    with pytest.raises(IllegalTransition):
        next_state(mode, S.ACCEPTED, E.REVIEW_STARTED)
    assert next_state(mode, S.ACCEPTED, E.CASE_FORWARDED) is S.FORWARDED


def test_forwarding_is_only_for_accepted_elsewhere() -> None:
    """A fully online case is never forwarded."""
    with pytest.raises(IllegalTransition):
        next_state(HandlingMode.FULLY_ONLINE, S.ACCEPTED, E.CASE_FORWARDED)


def test_workflow_steps_are_only_for_joint_cases() -> None:
    """STEP_REQUESTED keeps a joint case under review and is illegal in other modes."""
    assert next_state(HandlingMode.JOINT, S.UNDER_REVIEW, E.STEP_REQUESTED) is S.UNDER_REVIEW
    with pytest.raises(IllegalTransition):
        next_state(HandlingMode.FULLY_ONLINE, S.UNDER_REVIEW, E.STEP_REQUESTED)


@pytest.mark.parametrize("mode", list(HandlingMode))
def test_withdrawal_is_open_until_a_decision(mode: HandlingMode) -> None:
    """撤回 is allowed from every undecided state the mode uses, and not once approved."""
    undecided = {s for s, _ in TRANSITIONS[mode] if s is not None} - {S.APPROVED}
    for state in undecided:
        assert next_state(mode, state, E.CASE_WITHDRAWN) is S.WITHDRAWN
    with pytest.raises(IllegalTransition):
        next_state(mode, S.APPROVED, E.CASE_WITHDRAWN)


@pytest.mark.parametrize("mode", list(HandlingMode))
def test_a_case_starts_only_with_submission(mode: HandlingMode) -> None:
    """The first event of a case must be CASE_SUBMITTED."""
    assert allowed_events(mode, None) == {E.CASE_SUBMITTED}
    with pytest.raises(IllegalTransition, match="a new case"):
        next_state(mode, None, E.CASE_ACCEPTED)


@given(mode=st.sampled_from(HandlingMode), events=st.lists(st.sampled_from(EventType)))
def test_random_walks_only_reach_legal_states(mode: HandlingMode, events: list[EventType]) -> None:
    """Applying random events, skipping the illegal ones, stays inside the mode's states."""
    reachable = set(TRANSITIONS[mode].values())
    state: CaseState | None = None
    for event in events:
        allowed = allowed_events(mode, state)
        try:
            new_state = next_state(mode, state, event)
        except IllegalTransition:
            assert event not in allowed
            continue
        assert event in allowed
        assert state is None or not is_terminal(state)
        assert new_state in reachable
        state = new_state


def test_terminal_states_have_no_way_out() -> None:
    """No mode has a transition out of REFUSED, DENIED, DELIVERED or WITHDRAWN."""
    for table in TRANSITIONS.values():
        assert not any(source in TERMINAL_STATES for source, _ in table)
