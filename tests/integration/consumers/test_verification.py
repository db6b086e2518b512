"""Verification against the real broker: a record applies only as its source region signed it."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from casesync.adapters.kafka_clients import new_producer
from casesync.testing_trust import Record, TestTrust
from casesync.trust.keys import new_signing_key
from casesync.trust.records import facts_from_record
from casesync.trust.signing import sign_batch
from consumers.records import SOURCE_HEADER, TARGET_HEADER

from .conftest import RUDONG, TONGXIANG, World, housing_cases

pytestmark = pytest.mark.integration

SUZHOU = "320500"


def _records(world: World, cases: int) -> list[Record]:
    """One submission per case, recorded by Rudong, addressed to Tongxiang's inbox (unsigned)."""
    rudong = world.region(RUDONG)
    world.region(TONGXIANG)
    rudong.record(housing_cases(0, cases, steps=1))
    rows = rudong.query("SELECT case_id, payload FROM outbox ORDER BY id")
    inbox = world.names.inbox(TONGXIANG)
    routing = [(SOURCE_HEADER, RUDONG.encode()), (TARGET_HEADER, TONGXIANG.encode())]
    return [(inbox, c.encode(), bytes(p), [*routing, ("event_type", b"CaseSubmitted")])
            for c, p in rows]  # fmt: skip


def _send_raw(world: World, records: list[Record]) -> None:
    """Send records as they are, all to partition 0 (one partition: order is what is tested)."""
    producer = new_producer(world.services.kafka, acks="all")
    try:
        for topic, key, value, headers in records:
            producer.send(topic, key=key, value=value, headers=headers, partition=0)
        producer.flush()
    finally:
        producer.close()


def _dead(world: World) -> list[tuple[str, str]]:
    return world.region(TONGXIANG).query("SELECT stage, error_class FROM dead_letters ORDER BY id")


def _mirrored(world: World) -> list[str]:
    rows = world.region(TONGXIANG).query("SELECT case_id FROM mirror_cases ORDER BY case_id")
    return [case_id for (case_id,) in rows]


def _flip(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


@pytest.mark.parametrize("part", ["value", "key", "header"])
def test_one_changed_byte_is_a_bad_signature_and_later_records_apply(
    world: World, casesync_trust: TestTrust, part: str
) -> None:
    """One byte changed in a signed record's value, key or a covered header: dead letter
    verify/BadSignature, that case not mirrored, the later records of the partition applied."""
    records = _records(world, 3)
    casesync_trust.sign(records, RUDONG, TONGXIANG)
    topic, key, value, headers = records[1]
    assert key is not None
    assert value is not None
    if part == "value":
        records[1] = (topic, key, _flip(value), headers)
    elif part == "key":
        records[1] = (topic, _flip(key), value, headers)
    else:
        records[1] = (topic, key, value, [(n, b"CaseSubmitteD" if n == "event_type" else v)
                                           for n, v in headers])  # fmt: skip
    _send_raw(world, records)
    world.consume(TONGXIANG)
    assert _dead(world) == [("verify", "BadSignature")]
    assert _mirrored(world) == sorted([records[0][1].decode(), records[2][1].decode()])


def test_a_region_signing_another_regions_case_is_refused(
    world: World, casesync_trust: TestTrust
) -> None:
    """Suzhou signs, with its own valid key, records that say Rudong is their source:
    SignerNotSource, nothing mirrored."""
    records = _records(world, 2)
    casesync_trust.sign(records, SUZHOU, TONGXIANG)
    _send_raw(world, records)
    world.consume(TONGXIANG)
    assert _dead(world) == [("verify", "SignerNotSource")] * 2
    assert _mirrored(world) == []


def test_unsigned_and_unknown_key_records_are_refused_with_their_class(world: World) -> None:
    """An unsigned record is Unsigned; one signed by a key no manifest lists is UnknownKey."""
    unsigned, unknown = _records(world, 2)
    stranger = new_signing_key(RUDONG)
    facts = facts_from_record(unknown[1], unknown[2], unknown[3], TONGXIANG)
    unknown[3].append(sign_batch([facts], stranger, datetime.now(UTC)).pop())
    _send_raw(world, [unsigned, unknown])
    world.consume(TONGXIANG)
    assert _dead(world) == [("verify", "Unsigned"), ("verify", "UnknownKey")]
    assert _mirrored(world) == []


def test_without_a_manifest_in_force_nothing_is_applied_or_dead_lettered(
    world: World, casesync_trust: TestTrust, tmp_path: Path
) -> None:
    """With only an expired manifest the consumer waits: it applies nothing unverified and
    dead-letters nothing; with the manifest in force again it applies everything."""
    records = _records(world, 2)
    casesync_trust.sign(records, RUDONG, TONGXIANG)
    _send_raw(world, records)
    expired = TestTrust(tmp_path, casesync_trust.root, casesync_trust.keys)
    expired.publish(casesync_trust.entries(), expires_in=-timedelta(hours=1))
    consumer = dataclasses.replace(world, trust=expired).consumer(TONGXIANG)
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,))
    thread.start()
    try:
        stop.wait(8)
        assert _mirrored(world) == []
        assert _dead(world) == []
    finally:
        stop.set()
        thread.join(30)
    world.consume(TONGXIANG)
    assert len(_mirrored(world)) == 2
    assert _dead(world) == []
