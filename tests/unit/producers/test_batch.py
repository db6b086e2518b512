"""Which rows of a relay batch count as published: only those whose every target acknowledged."""

from __future__ import annotations

from kafka.errors import KafkaTimeoutError
from kafka.future import Future

from producers.outbox_store import OutboxRow
from producers.relay import _Batch


def _row(row_id: int, *targets: str) -> OutboxRow:
    return (row_id, f"C-{row_id}", f"e-{row_id}", "CASE_SUBMITTED", memoryview(b""), list(targets))


def _acked() -> Future:
    return Future().success("metadata")


def _failed() -> Future:
    return Future().failure(KafkaTimeoutError("expired"))


def _batch(rows: list[OutboxRow], records: list[list[Future]]) -> _Batch:
    """A batch whose row i was sent as ``records[i]`` (one future per target)."""
    batch = _Batch(rows)
    for futures in records:
        batch.futures.extend(futures)
        batch.ends.append(len(batch.futures))
    return batch


def test_a_row_counts_only_when_every_target_acknowledged() -> None:
    """A row fanned out to three inboxes, one of which failed, is not published; its
    neighbours, fully acknowledged, are."""
    rows = [_row(1, "330483", "320500"), _row(2, "330483", "320500", "640100"), _row(3, "330483")]
    batch = _batch(rows, [[_acked(), _acked()], [_acked(), _failed(), _acked()], [_acked()]])
    assert batch.done()
    assert batch.succeeded_ids() == [1, 3]
    assert not batch.all_succeeded()


def test_a_row_with_a_record_still_waiting_does_not_count() -> None:
    """An acknowledgement still missing from one target keeps the row unpublished."""
    waiting = Future()
    rows = [_row(1, "330483", "320500"), _row(2, "330483")]
    batch = _batch(rows, [[_acked(), waiting], [_acked()]])
    assert not batch.done()
    assert batch.succeeded_ids() == [2]
    waiting.success("metadata")
    assert batch.done()
    assert batch.succeeded_ids() == [1, 2]
    assert batch.all_succeeded()


def test_rows_after_a_send_that_failed_midway_do_not_count() -> None:
    """When sending stopped inside the batch, rows never (fully) sent are left for resending,
    even a row whose first targets were acknowledged."""
    rows = [_row(1, "330483"), _row(2, "330483", "320500"), _row(3, "330483")]
    batch = _batch(rows, [[_acked()]])
    batch.futures.append(_acked())  # row 2's first target went out, then the send raised
    assert batch.succeeded_ids() == [1]
    assert not batch.all_succeeded()


def test_a_row_with_no_target_counts_as_published_without_a_record() -> None:
    """A row addressed to no region is sent nowhere and is marked published all the same."""
    rows = [_row(1), _row(2, "330483")]
    batch = _batch(rows, [[], [_acked()]])
    assert batch.succeeded_ids() == [1, 2]
    assert batch.all_succeeded()


def test_rows_whose_records_were_built_but_never_sent_count_as_not_acknowledged() -> None:
    """A send that failed after the first row leaves the second row's records unsent: only the
    first row counts, and the batch is not all acknowledged."""
    batch = _Batch([_row(1, "330483"), _row(2, "330483")], futures=[_acked()], ends=[1, 2])
    assert batch.succeeded_ids() == [1]
    assert not batch.all_succeeded()
