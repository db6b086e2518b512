"""The relay's encoding step turns SQL-recorded outbox rows into the Avro the Python recorder
writes, keeps a refused one visible, and the relay's fetch never passes a row still unencoded."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from casesync.adapters.postgres import connect, transaction
from casesync.domain.events import Applicant
from casesync.domain.holidays import shipped_calendar
from casesync.domain.loading import shipped_catalogue
from casesync.domain.vocabulary import ApplicantKind, EventType, HandlingMode
from producers.app import build_codec, build_recorder
from producers.changes import CaseChange, build_event
from producers.encoding import EncodeResult, encode_pending
from producers.outbox_store import OutboxStore

from .conftest import RUDONG, SUBMISSION, TONGXIANG, SqlRegion

pytestmark = pytest.mark.integration

AT = datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=UTC)


def _record_sql(region: SqlRegion, case_id: str, event: str, expected: int) -> str:
    fields = json.dumps(SUBMISSION if expected == 0 else {})
    rows = region.query(
        "SELECT event_id::text FROM casesync_api.record_change(%s, %s, %s, %s::jsonb, %s)",
        (case_id, event, expected, fields, AT),
    )
    return str(rows[0][0])


def _encode(region: SqlRegion) -> EncodeResult:
    conn = connect(region.url)
    try:
        return encode_pending(conn, build_codec(), shipped_catalogue())
    finally:
        conn.close()


def test_an_encoded_sql_change_is_the_event_the_python_recorder_builds(
    sql_region: SqlRegion,
) -> None:
    """Decoded, the payload the encoding step writes equals ``build_event`` for the same
    change: same state, deadline, materials, targets and applicant."""
    event_id = _record_sql(sql_region, "RD-1", "CASE_SUBMITTED", 0)
    assert _encode(sql_region) == EncodeResult(encoded=1, refused=0)
    [(payload,)] = sql_region.query("SELECT payload FROM outbox WHERE pending_event IS NULL")
    change = CaseChange(
        "RD-1", EventType.CASE_SUBMITTED, 0, AT, item_code="002023002000",
        handling_mode=HandlingMode.FULLY_ONLINE,
        applicant=Applicant(ApplicantKind.PERSON, "王芳", id_number="330483199001011234"),
        target_regions=(TONGXIANG,), event_id=event_id,
    )  # fmt: skip
    expected = build_event(RUDONG, change, None, shipped_catalogue(), shipped_calendar())
    assert build_codec().decode(bytes(payload)) == expected


def test_a_change_refused_at_encoding_is_kept_with_its_reason(sql_region: SqlRegion) -> None:
    """A pending row the encoder cannot accept keeps its JSON, gets a reason, shows in
    ``casesync_api.refused_changes`` and is never handed to the relay."""
    _record_sql(sql_region, "RD-1", "CASE_SUBMITTED", 0)
    sql_region.query(
        "UPDATE outbox SET pending_event = jsonb_set(pending_event, '{event_type}', '\"NOPE\"')"
    )
    assert _encode(sql_region) == EncodeResult(encoded=0, refused=1)
    [(case_id, reason)] = sql_region.query(
        "SELECT case_id, refused_reason FROM casesync_api.refused_changes"
    )
    assert case_id == "RD-1"
    assert "NOPE" in reason
    assert sql_region.query("SELECT payload IS NULL, pending_event IS NOT NULL FROM outbox") == [
        (True, True)
    ]
    assert _fetch(sql_region) == []


def test_the_relay_fetch_stops_at_the_first_unencoded_row(sql_region: SqlRegion) -> None:
    """A Python-recorded row after a SQL-recorded one waits until that one is encoded, so no
    later row overtakes it; after encoding both are fetched in id order."""
    recorder = build_recorder(RUDONG)
    conn = connect(sql_region.url)
    try:
        with transaction(conn) as cur:
            recorder.record(cur, _python_submission("RD-0"))
        _record_sql(sql_region, "RD-1", "CASE_SUBMITTED", 0)
        with transaction(conn) as cur:
            recorder.record(cur, _python_submission("RD-2"))
    finally:
        conn.close()
    assert [row[1] for row in _fetch(sql_region)] == ["RD-0"]
    _encode(sql_region)
    assert [row[1] for row in _fetch(sql_region)] == ["RD-0", "RD-1", "RD-2"]


def _python_submission(case_id: str) -> CaseChange:
    return CaseChange(
        case_id, EventType.CASE_SUBMITTED, 0, AT, item_code="002023002000",
        handling_mode=HandlingMode.FULLY_ONLINE,
        applicant=Applicant(ApplicantKind.PERSON, "王芳", id_number="330483199001011234"),
        target_regions=(TONGXIANG,),
    )  # fmt: skip


def _fetch(region: SqlRegion) -> list[tuple[object, ...]]:
    store = OutboxStore(region.url)
    try:
        fresh, _ = store.fetch(0, 100)
        return [tuple(row) for row in fresh]
    finally:
        store.close()
