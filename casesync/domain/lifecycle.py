"""The case lifecycle: which event may move a case from which state, per handling mode.

Shared by all modes:
    (new) --submit--> SUBMITTED --accept--> ACCEPTED          --refuse--> REFUSED
    SUBMITTED --request materials (补正)--> MATERIALS_REQUESTED --supply--> SUBMITTED
    UNDER_REVIEW --approve--> APPROVED --deliver (送达)--> DELIVERED
    UNDER_REVIEW --deny--> DENIED
    any state before the decision --withdraw (撤回)--> WITHDRAWN
Per mode, the path from ACCEPTED to UNDER_REVIEW:
    FULLY_ONLINE        ACCEPTED --review--> UNDER_REVIEW
    ACCEPTED_ELSEWHERE  ACCEPTED --forward (转办)--> FORWARDED --review--> UNDER_REVIEW
    JOINT               ACCEPTED --review or step requested--> UNDER_REVIEW, where partner
                        regions' STEP_REQUESTED / STEP_COMPLETED keep it until the decision
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from casesync.domain.errors import IllegalTransition
from casesync.domain.vocabulary import CaseState, EventType, HandlingMode

S = CaseState
E = EventType

TERMINAL_STATES = frozenset({S.REFUSED, S.DENIED, S.DELIVERED, S.WITHDRAWN})

Transitions = Mapping[tuple[CaseState | None, EventType], CaseState]

_COMMON: dict[tuple[CaseState | None, EventType], CaseState] = {
    (None, E.CASE_SUBMITTED): S.SUBMITTED,
    (S.SUBMITTED, E.CASE_ACCEPTED): S.ACCEPTED,
    (S.SUBMITTED, E.CASE_REFUSED): S.REFUSED,
    # 补正 happens at intake (一次性告知); the supplied case is checked again from SUBMITTED.
    (S.SUBMITTED, E.MATERIALS_REQUESTED): S.MATERIALS_REQUESTED,
    (S.MATERIALS_REQUESTED, E.MATERIALS_SUPPLIED): S.SUBMITTED,
    (S.MATERIALS_REQUESTED, E.CASE_REFUSED): S.REFUSED,  # 逾期未补正
    (S.UNDER_REVIEW, E.CASE_APPROVED): S.APPROVED,
    (S.UNDER_REVIEW, E.CASE_DENIED): S.DENIED,  # the denial decision is served with itself
    (S.APPROVED, E.RESULT_DELIVERED): S.DELIVERED,
}

_BY_MODE: dict[HandlingMode, dict[tuple[CaseState | None, EventType], CaseState]] = {
    HandlingMode.FULLY_ONLINE: {
        (S.ACCEPTED, E.REVIEW_STARTED): S.UNDER_REVIEW,
    },
    HandlingMode.ACCEPTED_ELSEWHERE: {
        # Region A accepted at its window; region B decides after A forwards the materials.
        (S.ACCEPTED, E.CASE_FORWARDED): S.FORWARDED,
        (S.FORWARDED, E.REVIEW_STARTED): S.UNDER_REVIEW,
    },
    HandlingMode.JOINT: {
        (S.ACCEPTED, E.REVIEW_STARTED): S.UNDER_REVIEW,
        (S.ACCEPTED, E.STEP_REQUESTED): S.UNDER_REVIEW,
        # Steps of other regions move the workflow position, not the case state.
        (S.UNDER_REVIEW, E.STEP_REQUESTED): S.UNDER_REVIEW,
        (S.UNDER_REVIEW, E.STEP_COMPLETED): S.UNDER_REVIEW,
    },
}

# Withdrawal is open until a decision exists; APPROVED only awaits delivery.
_WITHDRAWABLE = frozenset(CaseState) - TERMINAL_STATES - {S.APPROVED}


def _table(mode: HandlingMode) -> Transitions:
    table = dict(_COMMON)
    table.update(_BY_MODE[mode])
    for state in _WITHDRAWABLE:
        if any(source == state for source, _ in table):
            table[(state, E.CASE_WITHDRAWN)] = S.WITHDRAWN
    return MappingProxyType(table)


TRANSITIONS: Mapping[HandlingMode, Transitions] = MappingProxyType(
    {mode: _table(mode) for mode in HandlingMode}
)


def next_state(mode: HandlingMode, current: CaseState | None, event_type: EventType) -> CaseState:
    """The state after ``event_type`` from ``current`` (None: a new case); IllegalTransition."""
    to_state = TRANSITIONS[mode].get((current, event_type))
    if to_state is None:
        where = "a new case" if current is None else current.value
        raise IllegalTransition(f"{event_type.value} is not allowed from {where} in {mode.value}")
    return to_state


def allowed_events(mode: HandlingMode, current: CaseState | None) -> frozenset[EventType]:
    """The event types that may follow ``current`` in ``mode``."""
    return frozenset(event for state, event in TRANSITIONS[mode] if state == current)


def is_terminal(state: CaseState) -> bool:
    """Whether nothing may happen to a case in ``state`` any more."""
    return state in TERMINAL_STATES
