"""The replay file format: what goes in comes out, with the topic, region and schemas."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from casesync.ops.errors import BadRecording
from casesync.ops.recording import Recording, RecordingInfo, count_records, write
from casesync.ops.topic_reader import RawRecord

RECORDS = [
    RawRecord(0, 7, 1_772_413_200_000, b"320623-1", b"\xc3\x01payload",
              (("event_type", b"CASE_SUBMITTED"), ("empty", None))),
    RawRecord(3, 0, 1_772_413_200_123, None, None, ()),
]  # fmt: skip
INFO = RecordingInfo(
    "casesync.inbox.330483", None, {"00ff": '{"type": "record"}'}, target_region="330483"
)


def test_records_round_trip_with_partition_offset_time_key_headers_and_value() -> None:
    """Every field of every record reads back exactly as it was written, in order."""
    buffer = io.BytesIO()
    write(buffer, INFO, RECORDS)
    buffer.seek(0)
    recording = Recording(buffer)
    assert recording.info == INFO
    assert list(recording) == RECORDS


def test_count_records_reads_the_number_without_decoding(tmp_path: Path) -> None:
    """count_records gives the number of records a file holds (for the progress bar)."""
    path = tmp_path / "r.avro"
    with path.open("wb") as f:
        write(f, INFO, RECORDS * 50)
    assert count_records(path) == 100


def test_a_file_that_is_not_avro_is_refused_clearly() -> None:
    """Bytes that are not an Avro container raise BadRecording."""
    with pytest.raises(BadRecording):
        Recording(io.BytesIO(b"not an avro file at all"))


def test_an_avro_file_without_the_recording_metadata_is_refused() -> None:
    """Another program's Avro file raises BadRecording naming the expected format."""
    import fastavro

    buffer = io.BytesIO()
    schema = {"type": "record", "name": "X", "fields": [{"name": "a", "type": "int"}]}
    fastavro.writer(buffer, schema, [{"a": 1}])
    buffer.seek(0)
    with pytest.raises(BadRecording, match=r"casesync\.recording/1"):
        Recording(buffer)
