"""An applied event's COPY rows: its fields in column order, escaped whenever a field needs it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casesync.adapters.copying import text
from casesync.domain.vocabulary import CaseState, EventType
from casesync.snapshots import snapshot_json_text
from consumers import store
from consumers.planning import plan_batch

from .conftest import TOPIC, EventFactory, record_at


def _unescape(field: str) -> str:
    out, chars = [], iter(field)
    for c in chars:
        if c == "\\":
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[next(chars)])
        else:
            out.append(c)
    return "".join(out)


def test_rows_hold_the_event_fields_in_column_order(make_event: EventFactory) -> None:
    """The mirror row follows the mirror columns, the history row the history columns."""
    event = make_event()
    row = store.row_text(record_at(7, partition=2), event)
    mirror = row.mirror.removesuffix("\n").split("\t")
    history = row.history.removesuffix("\n").split("\t")
    s = event.snapshot
    assert dict(zip(store.MIRROR_COLUMNS, mirror, strict=True)) == {
        "case_id": event.case_id, "source_region": event.source_region,
        "version": str(event.case_version), "state": s.state.value, "item_code": s.item_code,
        "handling_mode": s.handling_mode.value, "step_owner": s.step_owner,
        "promised_deadline": s.promised_deadline.isoformat(),
        "correlation_id": event.correlation_id, "updated_at": event.occurred_at.isoformat(),
        "snapshot": snapshot_json_text(s), "last_event_id": event.event_id,
    }  # fmt: skip
    assert dict(zip(store._HISTORY_COLUMNS, history, strict=True)) == {
        "case_id": event.case_id, "version": str(event.case_version),
        "event_id": event.event_id, "event_type": event.event_type.value,
        "state": s.state.value, "source_region": event.source_region,
        "occurred_at": event.occurred_at.isoformat(), "topic": TOPIC, "partition": "2",
        "offset": "7",
    }  # fmt: skip


@pytest.mark.parametrize("nasty", ["a\tb", "a\nb", "a\rb", "a\\b", "\\N", "\t\t\n"])
def test_a_field_with_a_copy_special_character_is_escaped(
    make_event: EventFactory, nasty: str
) -> None:
    """A tab, newline, carriage return or backslash in a field never shifts columns or rows."""
    event = make_event(correlation_id=nasty, event_id=nasty)
    row = store.row_text(record_at(0), event)
    mirror = row.mirror.removesuffix("\n").split("\t")
    history = row.history.removesuffix("\n").split("\t")
    assert len(mirror) == len(store.MIRROR_COLUMNS)
    assert len(history) == len(store._HISTORY_COLUMNS)
    assert "\n" not in row.mirror[:-1]
    assert "\n" not in row.history[:-1]
    assert _unescape(mirror[8]) == nasty
    assert _unescape(mirror[11]) == nasty
    assert _unescape(history[2]) == nasty


def test_rows_formatted_ahead_are_the_rows_written(make_event: EventFactory) -> None:
    """``row_texts`` gives a case's only event in a batch the rows ``row_text`` gives it alone."""
    events = [make_event(case_id=f"c{n}") for n in range(3)]
    records = [record_at(n) for n in range(3)]
    ahead = store.row_texts(records, events)
    plan = plan_batch(zip(records, events, strict=True), {}, (), {})
    assert [ahead[(r.topic, r.partition, r.offset)] for r in records] == [
        store.row_text(a.record, a.event) for a in plan.applied
    ]


def test_only_each_cases_newest_event_gets_its_mirror_row_ahead(
    make_event: EventFactory,
) -> None:
    """A case's mirror row is written once per batch: formatted ahead for its highest version
    only, and, when that version is held, formatted for the applied one as it is written."""
    v1 = make_event(case_version=1)
    v3 = make_event(case_version=3, event_type=EventType.CASE_ACCEPTED, state=CaseState.ACCEPTED)
    other = make_event(case_id="320623-2026-0000002")
    records = [record_at(n) for n in range(3)]
    ahead = store.row_texts(records, [v1, v3, other])
    assert [ahead[(TOPIC, 0, n)].mirror is not None for n in range(3)] == [False, True, True]
    plan = plan_batch(zip(records, [v1, v3, other], strict=True), {}, (), {})
    assert [h.event for h in plan.held] == [v3]  # version 2 missing: v1 is the case's mirror
    latest = plan.latest()
    assert [store._mirror_line(a, ahead) for a in latest.values()] == [
        store.mirror_line(v1),
        store.mirror_line(other),
    ]
    assert [store._history_line(a, ahead) for a in plan.applied] == [
        store.row_text(a.record, a.event).history for a in plan.applied
    ]


def test_an_event_with_a_malformed_version_is_formatted_and_left_to_sequencing(
    make_event: EventFactory,
) -> None:
    """Version 0 (which sequencing dead-letters) still gets its rows, never an error."""
    ahead = store.row_texts([record_at(0)], [make_event(case_version=0)])
    assert ahead[(TOPIC, 0, 0)].mirror is not None


@given(st.lists(st.text(alphabet=st.sampled_from("ab\t\n\r\\N.终"), max_size=6), min_size=1))
def test_a_joined_line_is_the_fields_escaped_one_by_one(fields: list[str]) -> None:
    """Joining first and escaping only when needed gives exactly the field-by-field line."""
    assert store._line(fields) == "\t".join(text(f) for f in fields) + "\n"
