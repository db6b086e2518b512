"""The replay file: an Avro object container of one topic's records, kept as they were.

Each record keeps partition, offset, timestamp, key, headers and value bytes untouched (the value
stays single-object encoded). The file's metadata names the topic and its source region, and
carries every writer schema the values use, so a recording applies with no broker at hand.

A recording of a region's inbox names that region (``target_region``). Recordings made before
inboxes existed are of one source region's events topic: they name the source region and no
target, and their records carry no target header (``casesync.ops.replay`` addresses them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import fastavro

from casesync.ops.errors import BadRecording
from casesync.ops.topic_reader import RawRecord

FORMAT = "casesync.recording/1"
RECORDING_SCHEMA = fastavro.parse_schema({
    "type": "record", "name": "RecordedMessage", "namespace": "casesync.recording",
    "fields": [
        {"name": "partition", "type": "int"},
        {"name": "offset", "type": "long"},
        {"name": "timestamp", "type": "long", "doc": "milliseconds since the epoch, UTC"},
        {"name": "key", "type": ["null", "bytes"], "default": None},
        {"name": "headers", "type": {"type": "array", "items": {
            "type": "record", "name": "Header",
            "fields": [{"name": "key", "type": "string"},
                       {"name": "value", "type": ["null", "bytes"], "default": None}]}}},
        {"name": "value", "type": ["null", "bytes"], "default": None},
    ],
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class RecordingInfo:
    """What a recording is of."""

    topic: str
    source_region: str | None  # set in recordings of a source's events topic (before inboxes)
    schemas: dict[str, str] = field(default_factory=dict)  # fingerprint hex → schema JSON
    target_region: str | None = None  # the region whose inbox was recorded

    def metadata(self) -> dict[str, str]:
        """The file-header metadata holding this description."""
        return {
            "casesync.format": FORMAT,
            "casesync.topic": self.topic,
            "casesync.source_region": self.source_region or "",
            "casesync.schemas": json.dumps(self.schemas, sort_keys=True),
            "casesync.target_region": self.target_region or "",
        }

    @classmethod
    def from_metadata(cls, meta: dict[str, Any]) -> RecordingInfo:
        """The description in a file's metadata; BadRecording when it is not a recording."""
        if _text(meta.get("casesync.format")) != FORMAT:
            raise BadRecording(f"not a casesync recording (expected format {FORMAT})")
        try:
            schemas = json.loads(_text(meta.get("casesync.schemas")) or "{}")
        except ValueError as e:
            raise BadRecording("the recording's schema table is not JSON") from e
        return cls(
            _text(meta.get("casesync.topic")),
            _text(meta.get("casesync.source_region")) or None,
            schemas,
            _text(meta.get("casesync.target_region")) or None,
        )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def to_avro(record: RawRecord) -> dict[str, Any]:
    """A raw record as a row of the recording schema."""
    return {
        "partition": record.partition, "offset": record.offset,
        "timestamp": record.timestamp_ms, "key": record.key,
        "headers": [{"key": k, "value": v} for k, v in record.headers], "value": record.value,
    }  # fmt: skip


def from_avro(row: dict[str, Any]) -> RawRecord:
    """A row of the recording schema as a raw record."""
    return RawRecord(
        row["partition"], row["offset"], row["timestamp"], row["key"], row["value"],
        tuple((h["key"], h["value"]) for h in row["headers"]),
    )  # fmt: skip


def write(out: BinaryIO, info: RecordingInfo, records: Iterable[RawRecord]) -> None:
    """Write a recording of ``records`` (streamed: memory stays flat)."""
    fastavro.writer(
        out, RECORDING_SCHEMA, (to_avro(r) for r in records), metadata=info.metadata(),
        codec="deflate",
    )  # fmt: skip


class Recording:
    """An open recording: ``info`` first, then its records in file order."""

    def __init__(self, source: BinaryIO) -> None:
        try:
            self._reader = fastavro.reader(source)
        except Exception as e:  # fastavro raises plain ValueError and friends on a bad header
            raise BadRecording(f"not an Avro object container file ({type(e).__name__})") from e
        self.info = RecordingInfo.from_metadata(self._reader.metadata)

    def __iter__(self) -> Iterator[RawRecord]:
        try:
            for row in self._reader:
                yield from_avro(row)  # type: ignore[arg-type]
        except (ValueError, EOFError, KeyError, TypeError) as e:  # a damaged block
            raise BadRecording(f"damaged recording ({type(e).__name__}: {e})") from e


def count_records(path: Path) -> int:
    """How many records a recording holds (reads block headers only, not the records)."""
    try:
        with path.open("rb") as f:
            return sum(block.num_records for block in fastavro.block_reader(f))
    except OSError as e:
        raise BadRecording(f"cannot read {path}: {e.strerror}") from e
    except Exception as e:  # fastavro raises plain ValueError and friends on a bad header
        raise BadRecording(
            f"{path} is not an Avro object container file ({type(e).__name__})"
        ) from e
