"""The schema store: bundled versions, one remote lookup per unknown fingerprint, negatives
remembered briefly, and typed errors for bad remote answers."""

from __future__ import annotations

import json

import pytest

from casesync.contract.codec import CaseEventCodec, SingleObjectCodec, case_event_codec
from casesync.contract.errors import (
    IncompatibleSchema,
    SchemaParseError,
    SchemaSourceUnavailable,
    UnknownFingerprint,
)
from casesync.contract.schemas import RegisteredSchema, load_versions, register_schema
from casesync.contract.store import SchemaStore
from casesync.contract.testing import InMemorySchemaSource, sample_case_event

VERSIONS = load_versions()
UNSEEN = b"\x01\x02\x03\x04\x05\x06\x07\x08"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def future_version() -> RegisteredSchema:
    """A compatible v3 nobody has bundled yet: one more optional field."""
    schema = json.loads(VERSIONS[-1].schema_json)
    schema["fields"].append(
        {"name": "channel", "type": ["null", "string"], "default": None, "doc": "window/online"}
    )
    return register_schema(json.dumps(schema))


def encoded_by(writer: RegisteredSchema) -> bytes:
    codec = CaseEventCodec(SingleObjectCodec(SchemaStore(), writer=writer, reader=writer))
    return codec.encode(sample_case_event())


def test_store_knows_every_bundled_version_without_remote() -> None:
    """Each released version is found by its fingerprint with no remote source at all."""
    store = SchemaStore(VERSIONS)
    for version in VERSIONS:
        assert store.get(version.fingerprint) is version


def test_unknown_fingerprint_without_remote_carries_its_hex() -> None:
    """A fingerprint nobody knows raises UnknownFingerprint naming the fingerprint."""
    with pytest.raises(UnknownFingerprint) as caught:
        SchemaStore(VERSIONS).get(UNSEEN)
    assert caught.value.fingerprint_hex == UNSEEN.hex()


def test_consumer_fetches_a_newer_writer_once_and_decodes() -> None:
    """A partner's newer writer is fetched from the remote once, then served from memory."""
    v3 = future_version()
    remote = InMemorySchemaSource({v3.fingerprint_hex: v3.schema_json})
    codec = case_event_codec(remote)
    data = encoded_by(v3)
    assert codec.decode(data) == sample_case_event()
    assert codec.decode(data) == sample_case_event()
    assert remote.fetches == [v3.fingerprint_hex]


def test_missing_fingerprint_is_remembered_until_the_ttl_passes() -> None:
    """A poison flood of one unknown fingerprint costs one remote lookup per TTL."""
    clock = FakeClock()
    remote = InMemorySchemaSource()
    store = SchemaStore(VERSIONS, remote, negative_ttl=30.0, clock=clock)
    for _ in range(100):
        with pytest.raises(UnknownFingerprint):
            store.get(UNSEEN)
    assert remote.fetches == [UNSEEN.hex()]
    clock.now += 31.0
    with pytest.raises(UnknownFingerprint):
        store.get(UNSEEN)
    assert len(remote.fetches) == 2


def test_schema_published_after_a_miss_is_found_once_the_ttl_passes() -> None:
    """A writer published late is picked up after the negative entry expires."""
    clock = FakeClock()
    v3 = future_version()
    remote = InMemorySchemaSource()
    store = SchemaStore(VERSIONS, remote, negative_ttl=5.0, clock=clock)
    with pytest.raises(UnknownFingerprint):
        store.get(v3.fingerprint)
    remote.entries[v3.fingerprint_hex] = v3.schema_json
    clock.now += 6.0
    assert store.get(v3.fingerprint) == v3


def test_unparsable_remote_schema_is_a_typed_error_and_cached() -> None:
    """Garbage under a fingerprint raises SchemaParseError, and is not fetched again at once."""
    remote = InMemorySchemaSource({UNSEEN.hex(): '{"type": "record", "name": '})
    store = SchemaStore(VERSIONS, remote)
    for _ in range(3):
        with pytest.raises(SchemaParseError):
            store.get(UNSEEN)
    assert remote.fetches == [UNSEEN.hex()]


def test_remote_schema_under_the_wrong_fingerprint_is_refused() -> None:
    """A valid schema whose own fingerprint differs from its key cannot decode anything."""
    remote = InMemorySchemaSource({UNSEEN.hex(): VERSIONS[0].schema_json})
    with pytest.raises(SchemaParseError, match="has fingerprint"):
        SchemaStore(VERSIONS, remote).get(UNSEEN)


def test_failing_remote_is_retriable_and_not_cached() -> None:
    """A broken schema source raises the retriable SchemaSourceUnavailable; the next try asks."""
    remote = InMemorySchemaSource(fail_with=ConnectionError("broker down"))
    store = SchemaStore(VERSIONS, remote)
    for _ in range(2):
        with pytest.raises(SchemaSourceUnavailable) as caught:
            store.get(UNSEEN)
        assert caught.value.retriable
    assert len(remote.fetches) == 2


def test_producer_publishes_its_writer_once_before_first_encode() -> None:
    """The writer schema (full JSON) reaches the remote before the first message, only once."""
    remote = InMemorySchemaSource()
    codec = case_event_codec(remote)
    assert remote.publishes == []
    codec.encode(sample_case_event())
    codec.encode(sample_case_event())
    latest = VERSIONS[-1]
    assert remote.publishes == [latest.fingerprint_hex]
    assert remote.entries[latest.fingerprint_hex] == latest.schema_json


def test_failed_publish_is_retriable_and_retried_on_next_encode() -> None:
    """If publishing fails nothing is encoded, and the next encode tries to publish again."""
    remote = InMemorySchemaSource(fail_with=TimeoutError())
    codec = case_event_codec(remote)
    with pytest.raises(SchemaSourceUnavailable):
        codec.encode(sample_case_event())
    remote.fail_with = None
    assert codec.encode(sample_case_event())
    assert len(remote.publishes) == 2


def test_incompatible_remote_writer_is_refused_before_decoding() -> None:
    """A writer the reader cannot resolve gives IncompatibleSchema, checked once per writer."""
    schema = json.loads(VERSIONS[-1].schema_json)
    schema["fields"] = [f for f in schema["fields"] if f["name"] != "case_id"]
    breaking = register_schema(json.dumps(schema))
    remote = InMemorySchemaSource({breaking.fingerprint_hex: breaking.schema_json})
    codec = case_event_codec(remote)
    data = encoded_by(breaking)
    for _ in range(3):
        with pytest.raises(IncompatibleSchema, match="case_id"):
            codec.decode(data)
    assert remote.fetches == [breaking.fingerprint_hex]
