"""Bad input never blocks a partition and is never lost: it becomes a dead letter with a reason."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from kafka import TopicPartition

from casesync.adapters.kafka_clients import new_consumer
from casesync.domain.events import Applicant, CaseEvent
from casesync.domain.vocabulary import ApplicantKind, CaseState, EventType, HandlingMode
from consumers.records import SOURCE_HEADER, TARGET_HEADER

from .conftest import RUDONG, TONGXIANG, World, housing_cases

pytestmark = pytest.mark.integration

SUZHOU = "320500"
FOOD_LICENCE = "000131008000"  # 食品经营许可: Suzhou–Yinchuan only, not Rudong–Tongxiang


def _variant(event: CaseEvent, **changes: object) -> CaseEvent:
    snapshot_fields = {f.name for f in dataclasses.fields(event.snapshot)}
    snap = {k: changes.pop(k) for k in list(changes) if k in snapshot_fields}
    return dataclasses.replace(
        event,
        event_id=str(uuid.uuid4()),
        snapshot=dataclasses.replace(event.snapshot, **snap),
        **changes,  # type: ignore[arg-type]
    )


def _dlq_headers(world: World) -> list[dict[str, str]]:
    topic = world.names.dlq(TONGXIANG)
    consumer = new_consumer(world.services.kafka, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        found = []
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1000).values():
                found += [{k: v.decode() for k, v in r.headers} for r in records]
        return found
    finally:
        consumer.close()


def test_poison_is_dead_lettered_with_its_reason_and_everything_else_applies(world: World) -> None:
    """Garbage, an unknown fingerprint, a tombstone, a spoofed source, a record signed for
    another region's inbox, an item outside the agreement, an illegal transition and text the
    database cannot hold each become a dead-letter row and a DLQ record with provenance; every
    valid event around them is applied."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    rudong.record(housing_cases(0, 40, steps=1))
    world.relay(RUDONG)
    submitted = rudong.record(housing_cases(100, 1, steps=1))[0]
    world.relay(RUDONG)
    encode = world.codec.encode
    poison = {
        "garbage": b"definitely not avro",
        "unknown fingerprint": b"\xc3\x01" + bytes(range(8)) + b"\x00\x02",
        "spoofed": encode(_variant(submitted, case_id="spoof-1", source_region=SUZHOU)),
        "not shared": encode(
            _variant(
                submitted,
                case_id="food-1",
                item_code=FOOD_LICENCE,
                handling_mode=HandlingMode.FULLY_ONLINE,
                applicant=Applicant(
                    ApplicantKind.COMPANY, "如东某食品公司", credit_code="91320623MA00000000"
                ),
            )
        ),
        "illegal": encode(
            _variant(
                submitted,
                case_version=2,
                event_type=EventType.CASE_APPROVED,
                state=CaseState.APPROVED,
            )
        ),
        "nul text": encode(
            _variant(
                submitted,
                case_id="nul-1",
                applicant=Applicant(ApplicantKind.PERSON, "张\x00三", id_number="1"),
            )
        ),
    }
    topic = world.names.inbox(TONGXIANG)
    world.deliver(
        RUDONG, TONGXIANG, [(f"poison-{n}", value) for n, value in enumerate(poison.values())]
    )
    world.deliver(RUDONG, TONGXIANG, [("tombstone", None)])
    # Rudong's event in Tongxiang's inbox, but addressed to Yinchuan: never applied here.
    misaddressed = encode(_variant(submitted, case_id="elsewhere-1"))
    routing = [(SOURCE_HEADER, RUDONG.encode()), (TARGET_HEADER, b"640100")]
    world.send(topic, [("elsewhere-1", misaddressed)], routing)
    rudong.record(housing_cases(0, 40, steps=2)[40:])  # every case accepted, after the poison
    world.relay(RUDONG)

    consumer = world.consume(TONGXIANG)

    dead = tongxiang.query("SELECT error_class, stage FROM dead_letters ORDER BY id")
    assert sorted(dead) == sorted(
        [
            ("NotSingleObjectEncoded", "decode"),
            ("UnknownFingerprint", "decode"),
            ("SpoofedSource", "validate"),
            ("ItemNotShared", "validate"),
            ("IllegalTransition", "sequence"),
            ("UntranslatableCharacter", "store"),
            ("EmptyRecord", "decode"),
            # signed for Yinchuan's inbox: read from Tongxiang's, its signature no longer holds
            ("BadSignature", "verify"),
        ]
    )
    assert consumer.stats.dead_lettered == 8
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()
    assert tongxiang.query("SELECT count(*) FROM dead_letters WHERE published_at IS NULL") == [(0,)]
    headers = _dlq_headers(world)
    assert sorted(h["casesync.error-class"] for h in headers) == sorted(c for c, _ in dead)
    assert all(h["casesync.source-topic"] == topic for h in headers)
    assert all(h["casesync.error-reason"] and h["casesync.source-offset"] for h in headers)


def test_gap_is_held_visibly_then_applied_when_the_missing_version_arrives(world: World) -> None:
    """Version 3 missing: versions 4 and 5 wait in case_gaps; once 3 comes, all apply in order."""
    rudong, tongxiang = world.region(RUDONG), world.region(TONGXIANG)
    events = rudong.record(housing_cases(7, 1))
    rudong.query("UPDATE outbox SET published_at = now()")
    key = events[0].case_id
    encode = world.codec.encode
    world.deliver(
        RUDONG, TONGXIANG, [(key, encode(e)) for e in (events[0], events[1], events[3], events[4])]
    )
    world.consume(TONGXIANG, until_idle=2.0)
    assert tongxiang.query("SELECT case_id, missing_version, held_events FROM case_gaps") == [
        (key, 3, 2)
    ]
    assert tongxiang.query("SELECT version FROM mirror_cases") == [(2,)]

    world.deliver(
        RUDONG, TONGXIANG, [(key, encode(events[2])), (key, encode(events[1]))]
    )  # and a duplicate
    world.consume(TONGXIANG, until_idle=2.0)
    assert tongxiang.query("SELECT count(*) FROM case_gaps") == [(0,)]
    assert tongxiang.mirror_digest(RUDONG) == rudong.owned_digest()
    assert tongxiang.query('SELECT array_agg(version ORDER BY "offset") FROM mirror_history') == [
        ([1, 2, 4, 5, 3],)
    ]
    assert tongxiang.query("SELECT sum(ignored), sum(held) FROM consumer_positions") == [(1, 2)]
