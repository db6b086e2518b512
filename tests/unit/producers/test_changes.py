"""The producer's pure core: a change and the current case give the event, or a typed error."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casesync.domain.errors import ItemNotShared
from casesync.domain.events import Applicant
from casesync.domain.holidays import shipped_calendar
from casesync.domain.lifecycle import is_terminal, next_state
from casesync.domain.loading import shipped_catalogue
from casesync.domain.vocabulary import ApplicantKind, CaseState, EventType, HandlingMode
from producers.changes import CaseChange, CurrentCase, build_event
from producers.errors import ConcurrentChange, InvalidChange, NotOwner
from producers.simulation import Simulation, lifecycle_path

RUDONG, TONGXIANG, SUZHOU = "320623", "330483", "320500"
HOUSING_WITHDRAWAL = "002023002000"
AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CATALOGUE, CALENDAR = shipped_catalogue(), shipped_calendar()


def submission(**overrides: object) -> CaseChange:
    change = CaseChange(
        "RD-1", EventType.CASE_SUBMITTED, 0, AT, item_code=HOUSING_WITHDRAWAL,
        handling_mode=HandlingMode.FULLY_ONLINE,
        applicant=Applicant(ApplicantKind.PERSON, "王芳", id_number="330483199001011234"),
        target_regions=(TONGXIANG,),
    )  # fmt: skip
    return replace(change, **overrides)  # type: ignore[arg-type]


def test_a_submission_becomes_version_1_with_deadline_materials_and_targets() -> None:
    """A new case starts SUBMITTED at version 1, owned here, with catalogue materials."""
    event = build_event(RUDONG, submission(), None, CATALOGUE, CALENDAR)
    item = CATALOGUE.item(HOUSING_WITHDRAWAL)
    assert event.case_version == 1
    assert event.snapshot.state is CaseState.SUBMITTED
    assert event.snapshot.owner_region == RUDONG
    assert event.target_regions == (TONGXIANG,)
    assert event.correlation_id == "RD-1"
    expected = CALENDAR.promised_deadline(AT, item.time_limit_days)
    assert event.snapshot.promised_deadline == expected
    assert [m.code for m in event.snapshot.materials] == [
        spec.code for spec in CATALOGUE.materials_for(HOUSING_WITHDRAWAL, RUDONG)
    ]


def test_a_follow_up_change_moves_state_and_keeps_targets_and_correlation() -> None:
    """Accepting version 1 gives version 2 ACCEPTED with the case's targets and correlation."""
    first = build_event(RUDONG, submission(), None, CATALOGUE, CALENDAR)
    current = CurrentCase(1, first.snapshot, first.correlation_id, first.target_regions)
    change = CaseChange("RD-1", EventType.CASE_ACCEPTED, 1, AT)
    event = build_event(RUDONG, change, current, CATALOGUE, CALENDAR)
    assert (event.case_version, event.snapshot.state) == (2, CaseState.ACCEPTED)
    assert event.target_regions == (TONGXIANG,)
    assert event.correlation_id == "RD-1"


def test_wrong_expected_version_is_a_concurrent_change() -> None:
    """Expecting version 0 of an existing case raises ConcurrentChange naming both versions."""
    first = build_event(RUDONG, submission(), None, CATALOGUE, CALENDAR)
    current = CurrentCase(1, first.snapshot, first.correlation_id, first.target_regions)
    with pytest.raises(ConcurrentChange, match="expected version 0, but it is at version 1"):
        build_event(RUDONG, submission(), current, CATALOGUE, CALENDAR)


def test_a_region_cannot_change_a_case_another_region_owns() -> None:
    """Tongxiang changing Rudong's case raises NotOwner: each region writes only its own."""
    first = build_event(RUDONG, submission(), None, CATALOGUE, CALENDAR)
    current = CurrentCase(1, first.snapshot, first.correlation_id, first.target_regions)
    with pytest.raises(NotOwner):
        build_event(
            TONGXIANG, CaseChange("RD-1", EventType.CASE_ACCEPTED, 1, AT), current,
            CATALOGUE, CALENDAR,
        )  # fmt: skip


def test_a_target_without_an_agreement_for_the_item_is_refused() -> None:
    """Sharing a Rudong–Tongxiang-only item with Suzhou raises ItemNotShared."""
    item = next(
        code for code in CATALOGUE.shared_items(RUDONG, TONGXIANG, AT.date())
        if not CATALOGUE.is_shared(code, RUDONG, SUZHOU, AT.date())
    )  # fmt: skip
    fields = {field.value for field in CATALOGUE.item(item).applicant_fields}
    applicant = Applicant(
        ApplicantKind.COMPANY if "credit_code" in fields else ApplicantKind.PERSON, "申请人",
        id_number="330483199001011234" if "id_number" in fields else None,
        credit_code="91320623MA1XXXXXX0" if "credit_code" in fields else None,
    )  # fmt: skip
    change = submission(item_code=item, target_regions=(SUZHOU,), applicant=applicant)
    mode = sorted(CATALOGUE.item(item).handling_modes)[0]
    with pytest.raises(ItemNotShared):
        build_event(RUDONG, replace(change, handling_mode=mode), None, CATALOGUE, CALENDAR)


def test_a_submission_without_item_is_invalid() -> None:
    """A new case lacking its item raises InvalidChange."""
    with pytest.raises(InvalidChange):
        build_event(RUDONG, submission(item_code=None), None, CATALOGUE, CALENDAR)


@given(seed=st.integers(0, 2**32 - 1), mode=st.sampled_from(list(HandlingMode)))
def test_simulated_lifecycles_are_legal_and_end_terminal(seed: int, mode: HandlingMode) -> None:
    """Every simulated path replays through the state machine and ends in a terminal state."""
    state: CaseState | None = None
    for event_type in lifecycle_path(random.Random(seed), mode):
        state = next_state(mode, state, event_type)
    assert state is not None
    assert is_terminal(state)


def test_simulation_is_repeatable_with_a_seed() -> None:
    """The same seed plans the same cases, partners and paths."""
    plans = [Simulation(CATALOGUE, RUDONG, seed=7).plan(50, date(2026, 3, 2)) for _ in range(2)]
    assert [(p.item_code, p.partner, p.path) for p in plans[0]] == [
        (p.item_code, p.partner, p.path) for p in plans[1]
    ]
    assert {p.partner for p in plans[0]} == {TONGXIANG}
