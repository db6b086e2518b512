"""The real relay routes each event to the inboxes of its target regions, and nowhere else."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime

import pytest
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.consumer.fetcher import ConsumerRecord

from casesync.access.provisioning import provision_topics
from casesync.adapters.kafka_clients import new_admin, new_consumer
from casesync.adapters.topics import ensure_topics, existing_topics
from casesync.domain.loading import shipped_catalogue
from casesync.domain.vocabulary import EventType, HandlingMode
from casesync.settings import Settings
from casesync.testing import TEST_TOPICS
from casesync.trust.headers import read_signature
from producers.app import build_relay
from producers.changes import CaseChange
from producers.relay import RelayConfig

from .conftest import RUDONG, TONGXIANG, SourceRegion, new_case

pytestmark = pytest.mark.integration

SUZHOU = "320500"
# 个人住房公积金缴存使用证明开具: in the Rudong–Tongxiang list only, no national batch.
RUDONG_TONGXIANG_ONLY = "002023003000"


def _settings(region: SourceRegion) -> Settings:
    return Settings.from_env(
        {
            **region.services.kafka.environment(),
            **region.trust.environment(),
            "CASESYNC_DATABASE_URL": region.url,
            "CASESYNC_TOPIC_PREFIX": region.names.prefix,
        }
    )


def _records_by_inbox(region: SourceRegion) -> dict[str, list[ConsumerRecord]]:
    """Every record of every inbox under the test's prefix, by inbox region."""
    kafka, inbox_prefix = region.services.kafka, region.names.inbox("")
    inboxes = sorted(t for t in existing_topics(kafka) if t.startswith(inbox_prefix))
    consumer = new_consumer(kafka, enable_auto_commit=False)
    found: dict[str, list[ConsumerRecord]] = defaultdict(list)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in inboxes
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for tp, records in consumer.poll(timeout_ms=1000).items():
                found[tp.topic.removeprefix(inbox_prefix)].extend(records)
    finally:
        consumer.close()
    regions = (t.removeprefix(inbox_prefix) for t in inboxes)
    return {inbox: found.get(inbox, []) for inbox in regions}


def _keys_by_inbox(region: SourceRegion) -> dict[str, list[str]]:
    """Every record key of every inbox under the test's prefix, by inbox region."""
    return {
        inbox: [r.key.decode() for r in records]
        for inbox, records in _records_by_inbox(region).items()
    }


def _record_private_and_national_cases(region: SourceRegion) -> None:
    """Every inbox the agreements imply, then two changes of a case Rudong shares with
    Tongxiang alone and one of a national case, relayed."""
    provision_topics(region.services.kafka, TEST_TOPICS, shipped_catalogue(), region.names,
                     date.today())  # fmt: skip
    now = datetime.now(UTC)
    region.record([
        CaseChange("RD-PRIVATE", EventType.CASE_SUBMITTED, 0, now,
                   item_code=RUDONG_TONGXIANG_ONLY, handling_mode=HandlingMode.FULLY_ONLINE,
                   applicant=new_case("x").applicant),
        CaseChange("RD-PRIVATE", EventType.CASE_ACCEPTED, 1, now),
        CaseChange("RD-NATIONAL", EventType.CASE_SUBMITTED, 0, now,
                   item_code=new_case("x").item_code, handling_mode=HandlingMode.FULLY_ONLINE,
                   applicant=new_case("x").applicant),
    ])  # fmt: skip
    assert build_relay(_settings(region), RUDONG).run(until_idle=1.0).published == 3


def test_a_case_shared_with_tongxiang_only_reaches_tongxiang_s_inbox_and_no_other(
    source_region: SourceRegion,
) -> None:
    """With every inbox the agreements imply in place, Rudong's case of an item it shares with
    Tongxiang alone lands in Tongxiang's inbox only, while a national case lands in all 27
    other regions' inboxes."""
    catalogue = shipped_catalogue()
    _record_private_and_national_cases(source_region)

    keys = _keys_by_inbox(source_region)
    assert len(keys) == len(catalogue.regions)  # every region's inbox was read
    private = {inbox for inbox, ks in keys.items() if "RD-PRIVATE" in ks}
    national = {inbox for inbox, ks in keys.items() if "RD-NATIONAL" in ks}
    assert private == {TONGXIANG}
    assert keys[TONGXIANG].count("RD-PRIVATE") == 2
    assert national == set(catalogue.regions) - {RUDONG}


def test_each_inbox_s_records_are_signed_under_trees_of_their_own(
    source_region: SourceRegion,
) -> None:
    """A relay batch bound for 27 inboxes signs each inbox's records under trees that hold no
    record of another inbox: Tongxiang's three records share one tree of three, every other
    inbox's record is a tree of one, and no two inboxes share a signed root."""
    _record_private_and_national_cases(source_region)

    trees: dict[bytes, str] = {}  # signed batch part -> the inbox it was read from
    sizes: dict[str, set[int]] = {}
    for inbox, records in _records_by_inbox(source_region).items():
        claims = [read_signature(r.headers) for r in records]
        for claim in claims:
            assert claim is not None, f"an unsigned record in {inbox}'s inbox"
            mates = [c for c in claims if c is not None and c.batch == claim.batch]
            assert claim.tree_size == len(mates), "a tree holds records of another inbox"
            assert trees.setdefault(claim.batch, inbox) == inbox, "two inboxes share a tree"
            sizes.setdefault(inbox, set()).add(claim.tree_size)
    assert sizes.pop(TONGXIANG) == {3}
    assert set(map(frozenset, sizes.values())) == {frozenset({1})}


def test_a_row_is_published_only_once_every_target_inbox_acknowledged_it(
    source_region: SourceRegion,
) -> None:
    """The relay sends a row to Tongxiang and Suzhou; while Suzhou's inbox refuses the record
    (it is larger than the topic allows) the row stays unpublished, resent again and again;
    once Suzhou's inbox accepts it, the row is published and both inboxes hold it."""
    kafka, names = source_region.services.kafka, source_region.names
    suzhou_inbox = names.inbox(SUZHOU)
    ensure_topics(kafka, TEST_TOPICS, [suzhou_inbox])
    admin = new_admin(kafka)
    try:
        _set_max_message_bytes(admin, suzhou_inbox, "64")
        case = new_case("RD-BOTH")
        source_region.record([
            CaseChange(case.case_id, case.event_type, 0, case.occurred_at,
                       item_code=case.item_code, handling_mode=case.handling_mode,
                       applicant=case.applicant, target_regions=(TONGXIANG, SUZHOU)),
        ])  # fmt: skip
        relay = build_relay(_settings(source_region), RUDONG,
                            RelayConfig(pause_after_failure_s=0.2))  # fmt: skip
        stop = threading.Event()
        thread = threading.Thread(target=relay.run, args=(stop,))
        thread.start()
        try:
            deadline = time.monotonic() + 30
            while relay.stats.kafka_failures < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert relay.stats.kafka_failures >= 2  # refused, resent, refused again
            unpublished = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            assert source_region.scalar(unpublished) == 1
            _set_max_message_bytes(admin, suzhou_inbox, "1048588")
            deadline = time.monotonic() + 30
            while source_region.scalar(unpublished) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert source_region.scalar(unpublished) == 0
        finally:
            stop.set()
            thread.join(timeout=60)
    finally:
        admin.close()
    assert relay.stats.published == 1
    keys = _keys_by_inbox(source_region)
    assert "RD-BOTH" in keys[TONGXIANG]  # perhaps more than once: refused sends are resent
    assert "RD-BOTH" in keys[SUZHOU]


def _set_max_message_bytes(admin: KafkaAdminClient, topic: str, value: str) -> None:
    admin.alter_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic, configs={"max.message.bytes": value})]
    )
