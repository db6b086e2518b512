"""Record a topic to a file, apply a recording to a region database, publish it again.

``apply`` runs the consumer's own ``BatchApplier`` with no broker. Positions are the recorded
(topic, partition, offset): records before a partition's stored position are skipped, so applying
the same file twice applies it once, and a later recording of the same topic continues it.

A recording of a region's inbox applies to that region only. A recording made before inboxes (of
a source's events topic, every partner's events in one) is addressed on the way: each record
whose event is shared with the receiving region gets the target header the relay now writes,
the others are skipped and counted as not shared with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from casesync.adapters.kafka_clients import new_producer
from casesync.adapters.postgres import transaction
from casesync.adapters.schema_topic import KafkaSchemaSource
from casesync.adapters.topics import TopicNames
from casesync.contract.codec import case_event_codec
from casesync.contract.errors import ContractError
from casesync.contract.schemas import load_versions
from casesync.domain.events import CaseEvent
from casesync.ops.applying import StaticSchemas, build_apply_parts, prepare_region_database
from casesync.ops.errors import BadRange, RecordingOfAnotherRegion, UnknownTopic
from casesync.ops.progress import Progress
from casesync.ops.recording import Recording, RecordingInfo, count_records, write
from casesync.ops.topic_reader import RawRecord, TopicReader
from casesync.settings import Settings
from consumers import store
from consumers.compose import verify_step
from consumers.planning import Counts
from consumers.records import SOURCE_HEADER, TARGET_HEADER, Incoming, TopicPartition


@dataclass(frozen=True, slots=True)
class Range:
    """Which records of a topic: offsets or times (each bound optional), some partitions."""

    from_offset: int | None = None
    to_offset: int | None = None  # exclusive
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    partitions: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        by_offset = self.from_offset is not None or self.to_offset is not None
        if by_offset and (self.since is not None or self.until is not None):
            raise BadRange("choose offsets or times, not both")


@dataclass
class ApplyStats(Counts):
    """What applying a recording did: its records' counts, and more."""

    records: int = 0
    skipped: int = 0  # before the stored position: applied by an earlier run


def inbox_region_of(topic: str) -> str | None:
    """The region whose inbox ``topic`` is, under any prefix; None for any other topic."""
    _, inbox, region = topic.rpartition(".inbox.")
    return region if inbox and region else None


def export(settings: Settings, topic: str, wanted: Range, out: Path) -> int:
    """Write ``wanted`` records of ``topic`` (as they are at the start) to ``out``."""
    names = TopicNames(settings.topic_prefix)
    reader = TopicReader(settings.kafka)
    try:
        present = reader.partitions(topic)
        unknown = sorted(set(wanted.partitions) - set(present))
        if unknown:
            raise BadRange(
                f"{topic} has partitions {min(present)}-{max(present)}, not {unknown[0]}"
            )
        partitions = list(wanted.partitions) or present
        bounds = reader.bounds(topic, partitions)
        starts, ends = dict(bounds.start), dict(bounds.end)
        if wanted.from_offset is not None:
            starts = {p: max(s, wanted.from_offset) for p, s in starts.items()}
        if wanted.to_offset is not None:
            ends = {p: min(e, wanted.to_offset) for p, e in ends.items()}
        if wanted.since is not None:
            starts = reader.offsets_at(topic, partitions, wanted.since)
        if wanted.until is not None:
            ends = reader.offsets_at(topic, partitions, wanted.until)
        info = RecordingInfo(
            topic, None, _schema_table(reader, names), target_region=inbox_region_of(topic)
        )
        total = sum(max(0, ends[p] - starts[p]) for p in partitions)
        progress = Progress("export", total)
        with out.open("wb") as f:
            write(f, info, _counted(reader.read(topic, starts, ends), progress))
        progress.finish()
        return progress.done
    finally:
        reader.close()


def apply(settings: Settings, path: Path, region: str, batch_size: int = 2000) -> ApplyStats:
    """Apply a recording to ``region``'s database through the consumer's apply code."""
    url = settings.region_database_url(region)
    prepare_region_database(url)
    progress = Progress("apply", count_records(path))
    stats = ApplyStats()
    with path.open("rb") as f:
        recording = Recording(f)
        info = recording.info
        if info.target_region not in (None, region):
            raise RecordingOfAnotherRegion(info.target_region, region)
        # Verified as the consumer verifies: an edited recording is refused record by record.
        verify = verify_step(settings, region, topic=not settings.trust_manifest_file)
        parts = build_apply_parts(region, url, StaticSchemas(info.schemas), verify)
        positions: dict[TopicPartition, int | None] = {}
        try:
            for batch in _batches(recording, batch_size):
                stats.records += len(batch)
                fresh = _fresh(parts.database.connection(), info.topic, batch, positions)
                stats.skipped += len(batch) - len(fresh)
                if info.target_region is None:
                    records = [(r.key, r.value, r.headers) for r in fresh]
                    kept = _addressed(records, info, region, parts.codec.decode)
                    stats.not_targeted += len(fresh) - len(kept)
                    fresh = [r._replace(headers=kept[i]) for i, r in enumerate(fresh) if i in kept]
                if fresh:
                    outcome = parts.applier.apply(fresh, positions)
                    positions.update(outcome.next_offsets)
                    stats.add(outcome)
                progress.advance(len(batch))
        finally:
            parts.database.discard()
    progress.finish()
    return stats


def publish(settings: Settings, path: Path, topic: str) -> int:
    """Send a recording's records to ``topic``: same partition (when it exists), key, headers.

    Writer schemas the recording carries and casesync does not bundle are published first to the
    schema topic of this prefix, so consumers there can read every record. A recording made
    before inboxes, published to an inbox, sends only the events shared with its region, with
    the target header.
    """
    names = TopicNames(settings.topic_prefix)
    reader = TopicReader(settings.kafka)
    try:
        partitions = set(reader.partitions(topic))
    finally:
        reader.close()
    progress = Progress("publish", count_records(path))
    with path.open("rb") as f:
        recording = Recording(f)
        bundled = {s.fingerprint_hex for s in load_versions()}
        source = KafkaSchemaSource(settings.kafka, names.schemas)
        for fingerprint_hex, schema_json in recording.info.schemas.items():
            if fingerprint_hex not in bundled:
                source.publish(fingerprint_hex, schema_json)
        addressee = inbox_region_of(topic) if recording.info.target_region is None else None
        decode = case_event_codec(remote=StaticSchemas(recording.info.schemas)).decode
        producer = new_producer(settings.kafka, acks="all", linger_ms=5, batch_size=256 * 1024)
        try:
            for r in recording:
                progress.advance()
                headers: Sequence[tuple[str, bytes | None]] = r.headers
                if addressee is not None:
                    kept = _addressed([(r.key, r.value, r.headers)], recording.info, addressee,
                                      decode)  # fmt: skip
                    if not kept:
                        continue
                    headers = kept[0]
                producer.send(
                    topic,
                    key=r.key,
                    value=r.value,
                    headers=list(headers),
                    partition=r.partition if r.partition in partitions else None,
                )
            producer.flush()
        finally:
            producer.close()
    progress.finish()
    return progress.done


def _schema_table(reader: TopicReader, names: TopicNames) -> dict[str, str]:
    """Every schema of the shared schema topic, plus the bundled ones."""
    table = {s.fingerprint_hex: s.schema_json for s in load_versions()}
    try:
        bounds = reader.bounds(names.schemas)
    except UnknownTopic:
        return table
    for r in reader.read(names.schemas, bounds.start, bounds.end):
        if r.key is not None and r.value is not None:
            table[r.key.decode()] = r.value.decode()
    return table


def _addressed(
    records: Sequence[tuple[bytes | None, bytes | None, Sequence[tuple[str, Any]]]],
    info: RecordingInfo,
    region: str,
    decode: Callable[[bytes], CaseEvent],
) -> dict[int, tuple[tuple[str, bytes], ...]]:
    """Records (key, value, headers) of a recording made before inboxes, addressed to
    ``region``: index → headers with the source and target header, for those whose event is
    shared with ``region`` or does not decode (it is rejected as it would have been)."""
    kept = {}
    for i, (_, value, headers) in enumerate(records):
        if value is not None:
            try:
                if region not in decode(value).target_regions:
                    continue
            except ContractError:
                pass
        others = tuple((k, v or b"") for k, v in headers if k not in (SOURCE_HEADER, TARGET_HEADER))
        source = next((v for k, v in headers if k == SOURCE_HEADER and v), None)
        if source is None and info.source_region is not None:
            source = info.source_region.encode()
        routing = () if source is None else ((SOURCE_HEADER, source),)
        kept[i] = others + routing + ((TARGET_HEADER, region.encode()),)
    return kept


def _counted(records: Iterable[RawRecord], progress: Progress) -> Iterator[RawRecord]:
    for record in records:
        progress.advance()
        yield record


def _batches(records: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    batch: list[RawRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _fresh(
    conn: Any,
    topic: str,
    batch: Sequence[RawRecord],
    positions: dict[TopicPartition, int | None],
) -> list[Incoming]:
    """The batch's records at or after their partition's stored position, as ``Incoming``."""
    unknown = {(topic, r.partition) for r in batch} - positions.keys()
    if unknown:
        with transaction(conn) as cur:
            stored = store.load_positions(cur, unknown)
        positions.update({tp: stored.get(tp) for tp in unknown})
    return [
        Incoming(topic, r.partition, r.offset, r.key, r.value,
                 tuple((k, v or b"") for k, v in r.headers))
        for r in batch
        if r.offset >= (positions[(topic, r.partition)] or 0)
    ]  # fmt: skip
