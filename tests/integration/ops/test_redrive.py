"""``casesync dlq``: a dead letter, once fixed, is redriven through the apply code exactly once."""

from __future__ import annotations

import json

import pytest

from casesync.adapters.kafka_clients import new_producer
from casesync.adapters.schema_topic import KafkaSchemaSource
from casesync.adapters.topics import TopicNames
from casesync.contract.codec import SingleObjectCodec
from casesync.contract.mapping import event_to_record
from casesync.contract.schemas import RegisteredSchema, load_versions, register_schema
from casesync.contract.store import SchemaStore
from casesync.domain.events import CaseEvent
from casesync.testing_regions import RegionFactory, TestRegion
from casesync.testing_trust import TestTrust
from consumers.records import SOURCE_HEADER, TARGET_HEADER

from .conftest import RUDONG, TONGXIANG, Cli, housing_cases, json_lines

pytestmark = pytest.mark.integration


def _v3() -> RegisteredSchema:
    """A later writer schema no region has published yet: v2 plus an optional field."""
    schema = json.loads(load_versions()[-1].schema_json)
    schema["fields"].append({"name": "window_note", "type": ["null", "string"], "default": None})
    return register_schema(json.dumps(schema))


def _send_with_v3(
    source: TestRegion, event: CaseEvent, v3: RegisteredSchema, trust: TestTrust
) -> None:
    """Publish ``event`` written with v3, whose schema the schema topic does not hold yet,
    signed by its source as its relay would."""
    codec = SingleObjectCodec(SchemaStore(load_versions()), writer=v3, reader=v3)
    producer = new_producer(source.settings.kafka, acks="all")
    try:
        value = codec.encode_record(event_to_record(event))
        routing = [(SOURCE_HEADER, source.code.encode())]
        routing += [(TARGET_HEADER, target.encode()) for target in event.target_regions[:1]]
        inbox = TopicNames(source.settings.topic_prefix).inbox(event.target_regions[0])
        trust.sign([(inbox, event.case_id.encode(), value, routing)], source.code,
                   event.target_regions[0])  # fmt: skip
        producer.send(inbox, key=event.case_id.encode(), value=value, headers=routing).get(
            timeout=30
        )
    finally:
        producer.close()


def test_a_fixed_dead_letter_redriven_twice_is_applied_once(
    region_factory: RegionFactory, cli: Cli, casesync_trust: TestTrust
) -> None:
    """An event from a schema not yet published is dead-lettered; a redrive before the fix is
    rejected and audited; after the schema is published it applies, a second redrive (by id or
    --all) changes nothing, and the audit says who did what."""
    rudong, tongxiang = region_factory(RUDONG), region_factory(TONGXIANG)
    rudong.record(housing_cases(0, 1, steps=1))
    rudong.relay()
    accepted = rudong.record(housing_cases(0, 1, steps=2)[1:])[0]
    v3 = _v3()
    _send_with_v3(rudong, accepted, v3, casesync_trust)
    tongxiang.consume()

    _, out = cli(tongxiang, "dlq", "list", "--region", TONGXIANG, "--json")
    [dead] = json_lines(out)
    assert (dead["stage"], dead["error_class"]) == ("decode", "UnknownFingerprint")
    ident = str(dead["id"])
    _, out = cli(tongxiang, "ops", "status", "--region", TONGXIANG, "--json", "--window", "0")
    [cause] = json.loads(out)["dead_letters"]["by_class"]
    assert (cause["stage"], cause["error_class"], cause["count"]) == (
        "decode",
        "UnknownFingerprint",
        1,
    )
    assert cause["latest_reason"] == dead["reason"]

    code, out = cli(tongxiang, "dlq", "redrive", ident, "--region", TONGXIANG, "--by", "ops-a")
    assert (code, out.split()[1]) == (1, "rejected")

    KafkaSchemaSource(rudong.settings.kafka,
                      TopicNames(rudong.settings.topic_prefix).schemas).publish(
        v3.fingerprint_hex, v3.schema_json)  # fmt: skip
    code, out = cli(tongxiang, "dlq", "redrive", ident, "--region", TONGXIANG, "--by", "ops-b")
    assert (code, out.split()[1]) == (0, "applied")
    code, out = cli(tongxiang, "dlq", "redrive", ident, "--region", TONGXIANG, "--by", "ops-c")
    assert (code, out.split()[1]) == (0, "already")
    code, out = cli(tongxiang, "dlq", "redrive", "--all", "--region", TONGXIANG)
    assert (code, out) == (0, "")

    assert tongxiang.query(
        "SELECT version, state FROM mirror_cases WHERE case_id = %s", (accepted.case_id,)
    ) == [(2, "ACCEPTED")]
    assert tongxiang.query(
        "SELECT count(*) FROM mirror_history WHERE event_id = %s", (accepted.event_id,)
    ) == [(1,)]
    assert tongxiang.query(
        "SELECT requested_by, outcome FROM dead_letter_redrives ORDER BY id"
    ) == [("ops-a", "rejected"), ("ops-b", "applied")]
    _, out = cli(tongxiang, "dlq", "list", "--region", TONGXIANG, "--json")
    assert out == ""
    _, out = cli(tongxiang, "dlq", "show", ident, "--region", TONGXIANG)
    shown = json.loads(out)
    assert [r["outcome"] for r in shown["redrives"]] == ["rejected", "applied"]
    assert shown["value"]["snapshot"]["applicant"]["id_number"] == "***"
    _, out = cli(tongxiang, "ops", "status", "--region", TONGXIANG, "--json", "--window", "0")
    letters = json.loads(out)["dead_letters"]
    assert (letters["total"], letters["open"]) == (1, 0)
