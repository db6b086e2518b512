"""Avro single-object encoding of case events, without a registry.

Wire format (Avro spec): ``C3 01`` + 8-byte little-endian CRC-64-AVRO fingerprint of the writer
schema's Parsing Canonical Form + the schemaless Avro body. The fingerprint is the same in every
region, unlike a registry's local id, so bytes travel between regions as they are.

Any input bytes give a decoded record or a ``ContractError``; library errors are translated here.

Hot path: functions generated for the schemas at hand (``fastpath``) encode and decode several
times faster than fastavro. fastavro stays the reference: whatever the generated code refuses or
fails on (a value it does not cover, a corrupt body, a schema outside its subset) is handed to
fastavro, whose result or error is the answer. So the fast path can only be faster, never
different, as long as it is right on what it accepts; the tests compare the two on random events.
"""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, cast

from fastavro import schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError

from casesync.contract.compatibility import compatibility_problems
from casesync.contract.errors import (
    IncompatibleSchema,
    NotSingleObjectEncoded,
    SchemaParseError,
    UndecodableBody,
    UnencodableRecord,
)
from casesync.contract.fastpath import decoder_for, encoder_for
from casesync.contract.gen_reader import Decoder
from casesync.contract.mapping import (
    CASE_EVENT_BINDING,
    AvroRecord,
    event_to_record,
    record_to_event,
)
from casesync.contract.schemas import RegisteredSchema, load_versions
from casesync.contract.store import RemoteSchemaSource, SchemaStore
from casesync.contract.wire import MARKER
from casesync.domain.events import CaseEvent

HEADER_SIZE = len(MARKER) + 8

# How to read one writer's bodies: (writer, fastavro's writer parsed schema, reader parsed schema
# or None when the writer is the reader, which lets fastavro skip resolution, generated decoder).
_Plan = tuple[RegisteredSchema, dict[str, Any], dict[str, Any] | None, Decoder | None]


class SingleObjectCodec:
    """bytes ↔ plain Avro records; writes with ``writer``, resolves every writer to ``reader``."""

    def __init__(
        self, store: SchemaStore, writer: RegisteredSchema, reader: RegisteredSchema
    ) -> None:
        store.add(writer)
        store.add(reader)
        self._store = store
        self._writer = writer
        self._reader = reader
        self._header = MARKER + writer.fingerprint
        self._published = False
        self._fast_encode = encoder_for(writer)
        self._plans: dict[bytes, _Plan] = {
            reader.fingerprint: (reader, reader.parsed, None, decoder_for(reader, reader))
        }
        self._incompatible: dict[bytes, str] = {}  # checked once per writer, not per message

    @property
    def writer(self) -> RegisteredSchema:
        """The schema every encoded message is written with."""
        return self._writer

    @property
    def reader(self) -> RegisteredSchema:
        """The schema every decoded message is resolved to."""
        return self._reader

    def encode_record(self, record: Mapping[str, Any]) -> bytes:
        """Single-object bytes of ``record``; publishes the writer schema before the first one."""
        self.publish_writer()
        if self._fast_encode is not None:
            try:
                return self._fast_encode(record)
            except Exception:  # noqa: BLE001, S110 - fastavro below decides: value or error
                pass
        buffer = BytesIO()
        buffer.write(self._header)
        try:
            schemaless_writer(buffer, self._writer.parsed, record)
        except Exception as e:  # noqa: BLE001 - translated, see below
            # The cause is dropped on purpose: fastavro's message quotes the offending value,
            # which may be an ID number.
            raise UnencodableRecord(
                f"record does not match writer schema {self._writer.fingerprint_hex}"
                f" ({type(e).__name__})"
            ) from None
        return buffer.getvalue()

    def decode_record(self, data: bytes) -> AvroRecord:
        """The record in ``data``, resolved to the reader schema."""
        if len(data) < HEADER_SIZE or not data.startswith(MARKER):
            raise NotSingleObjectEncoded("missing C3 01 marker or fingerprint")
        fingerprint = data[2:HEADER_SIZE]
        plan = self._plans.get(fingerprint) or self._plan_for(fingerprint)
        if plan[3] is not None:
            try:
                record, end = plan[3](data, HEADER_SIZE)
                if end == len(data):
                    return cast(AvroRecord, record)
            except Exception:  # noqa: BLE001, S110 - fastavro below gives the typed error
                pass
        buffer = BytesIO(data)  # shares the bytes until written to: no copy
        buffer.seek(HEADER_SIZE)
        try:
            record = cast(AvroRecord, schemaless_reader(buffer, plan[1], plan[2]))
        except SchemaResolutionError as e:
            raise IncompatibleSchema(f"cannot resolve writer {fingerprint.hex()}") from e
        except Exception as e:  # EOF, bad index, bad UTF-8, out-of-range date, huge length ...
            raise UndecodableBody(
                f"body does not decode against writer {fingerprint.hex()} ({type(e).__name__})"
            ) from e
        if buffer.tell() != len(data):
            raise UndecodableBody(
                f"{len(data) - buffer.tell()} bytes trail the body of writer {fingerprint.hex()}"
            )
        return record

    def _plan_for(self, fingerprint: bytes) -> _Plan:
        if fingerprint in self._incompatible:
            raise IncompatibleSchema(self._incompatible[fingerprint])
        writer = self._store.get(fingerprint)
        try:
            problems = compatibility_problems(self._reader.schema_json, writer.schema_json)
        except Exception as e:  # fastavro accepted the text but the avro package does not
            raise SchemaParseError(f"cannot check writer {writer.fingerprint_hex}") from e
        if problems:
            message = (
                f"writer {writer.fingerprint_hex} cannot be read as"
                f" {self._reader.fingerprint_hex}: {'; '.join(problems)}"
            )
            self._incompatible[fingerprint] = message
            raise IncompatibleSchema(message)
        plan: _Plan = (
            writer,
            writer.parsed,
            self._reader.parsed,
            decoder_for(writer, self._reader),
        )
        self._plans[fingerprint] = plan
        return plan

    def publish_writer(self) -> None:
        """Publish the writer schema to the store's remote source unless done already."""
        if not self._published:
            self._store.publish(self._writer)
            self._published = True

    def event_decoder(self, fingerprint: bytes) -> Decoder | None:
        """Generated decoder straight to ``CaseEvent`` for a writer already read successfully."""
        plan = self._plans.get(fingerprint)
        if plan is None:
            return None
        return decoder_for(plan[0], self._reader, CASE_EVENT_BINDING)


class CaseEventCodec:
    """bytes ↔ ``CaseEvent``: the record codec plus the field-by-field mapping."""

    def __init__(self, records: SingleObjectCodec) -> None:
        self.records = records
        self._fast_encode = encoder_for(records.writer, CASE_EVENT_BINDING)
        # writer fingerprint → decoder to CaseEvent; filled after the record path has vetted
        # the writer (store lookup, compatibility), None when outside the generated subset.
        self._decoders: dict[bytes, Decoder | None] = {}

    def encode(self, event: CaseEvent) -> bytes:
        """Single-object bytes of ``event``."""
        if self._fast_encode is not None:
            self.records.publish_writer()
            try:
                return self._fast_encode(event)
            except Exception:  # noqa: BLE001, S110 - the record path decides: bytes or error
                pass
        return self.records.encode_record(event_to_record(event))

    def decode(self, data: bytes) -> CaseEvent:
        """The ``CaseEvent`` in ``data``, or a ``ContractError``."""
        fingerprint = data[2:HEADER_SIZE]
        fast = self._decoders.get(fingerprint)
        if fast is not None and data.startswith(MARKER):
            try:
                event, end = fast(data, HEADER_SIZE)
                if end == len(data):
                    return cast(CaseEvent, event)
            except Exception:  # noqa: BLE001, S110 - the record path gives the typed error
                pass
        event = record_to_event(self.records.decode_record(data))
        if fingerprint not in self._decoders:
            self._decoders[fingerprint] = self.records.event_decoder(fingerprint)
        return event


def case_event_codec(
    remote: RemoteSchemaSource | None = None,
    *,
    writer_version: int | None = None,
    reader_version: int | None = None,
    negative_ttl: float = 30.0,
) -> CaseEventCodec:
    """A codec over the bundled schema versions; writer and reader default to the latest."""
    versions = load_versions()
    store = SchemaStore(versions, remote, negative_ttl=negative_ttl)
    writer = _version(versions, writer_version)
    reader = _version(versions, reader_version)
    return CaseEventCodec(SingleObjectCodec(store, writer=writer, reader=reader))


def _version(versions: tuple[RegisteredSchema, ...], number: int | None) -> RegisteredSchema:
    if number is None:
        return versions[-1]
    if not 1 <= number <= len(versions):
        raise ValueError(f"schema version must be 1..{len(versions)}, not {number}")
    return versions[number - 1]
