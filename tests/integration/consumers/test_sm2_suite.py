"""The sm2-sm3 suite end to end: a region key made with `casesync keys new --suite sm2-sm3`,
listed in the manifest, signs the real relay's batches; the partner's consumer verifies them
through the real broker and refuses a changed record."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from casesync.adapters.kafka_clients import new_consumer, new_producer
from casesync.adapters.topics import delete_topics_with_prefix
from casesync.cli import main
from casesync.testing import Services
from casesync.testing_regions import RegionFactory
from casesync.testing_trust import TestTrust
from casesync.trust.headers import SIGNATURE, parse_signature
from casesync.trust.keys import load_signing_key, new_signing_key, write_signing_key
from casesync.trust.manifest import parse_entry
from casesync.trust.openssl_sm2 import UNAVAILABLE_REASON
from casesync.trust.suites import SM2_SM3

from .conftest import RUDONG, TONGXIANG, housing_cases

pytestmark = pytest.mark.integration


@pytest.fixture
def sm2_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> TestTrust:
    """Rudong's key is SM2, made by the command line; Tongxiang's is Ed25519; one manifest
    lists both (this module's regions sign and verify with these keys only)."""
    if UNAVAILABLE_REASON is not None:  # Debian's OpenSSL 3 has SM2: its absence is a failure
        pytest.fail(f"SM2 is unavailable: {UNAVAILABLE_REASON}")
    key_dir = tmp_path / "keys"
    monkeypatch.setenv("CASESYNC_SIGNING_KEY_DIR", str(key_dir))
    assert main(["keys", "new", "--region", RUDONG, "--suite", SM2_SM3]) == 0
    document = json.loads(capsys.readouterr().out)
    rudong_entry = parse_entry(document)
    rudong = load_signing_key(key_dir / f"{RUDONG}-{rudong_entry.key_id}.pem", RUDONG)
    tongxiang = new_signing_key(TONGXIANG)
    write_signing_key(tongxiang, key_dir)
    trust = TestTrust(tmp_path, new_signing_key("root"), {RUDONG: rudong, TONGXIANG: tongxiang})
    valid_from, valid_until = rudong_entry.valid_from, rudong_entry.valid_until
    trust.publish([rudong_entry, tongxiang.entry(valid_from, valid_until)])
    return trust


@pytest.fixture
def sm2_regions(
    casesync_services: Services,
    database_factory: Callable[[str], str],
    unique_name: Callable[[str], str],
    sm2_trust: TestTrust,
) -> Iterator[RegionFactory]:
    """Regions (as ``sm2_regions`` makes them) that sign and verify with ``sm2_trust``."""
    prefix = unique_name("t") + "."
    yield RegionFactory(
        casesync_services.kafka, database_factory, prefix, sm2_trust,
        topics=casesync_services.topics,
    )  # fmt: skip
    delete_topics_with_prefix(casesync_services.kafka, prefix)


def _inbox_records(sm2_regions: RegionFactory, topic: str, count: int) -> list[Any]:
    consumer = new_consumer(sm2_regions.kafka, topic, enable_auto_commit=False,
                            auto_offset_reset="earliest", consumer_timeout_ms=5000)  # fmt: skip
    try:
        records: list[Any] = []
        for record in consumer:
            records.append(record)
            if len(records) == count:
                break
        return records
    finally:
        consumer.close()


def test_the_relay_signs_with_sm2_and_the_consumer_verifies_and_refuses_a_change(
    sm2_regions: RegionFactory, sm2_trust: TestTrust
) -> None:
    """Rudong's relay signs with its SM2 key (suite sm2-sm3 in every record's signature); Tongxiang
    mirrors all 6 cases, nothing dead; one record sent again with a byte of its value changed
    is a verify/BadSignature dead letter and leaves the mirror as it was."""
    rudong, tongxiang = sm2_regions(RUDONG), sm2_regions(TONGXIANG)
    rudong.record(housing_cases(0, 6, steps=2))
    assert rudong.relay() == 12
    stats = tongxiang.consume()
    assert (stats.applied, stats.dead_lettered) == (12, 0)
    mirrored = tongxiang.query("SELECT case_id, version FROM mirror_cases ORDER BY case_id")
    assert [version for _, version in mirrored] == [2] * 6

    records = _inbox_records(sm2_regions, tongxiang.inbox, 12)
    assert len(records) == 12
    rudong_key = sm2_trust.keys[RUDONG].key_id.encode()
    for record in records:
        claim = parse_signature(dict(record.headers)[SIGNATURE])
        assert (claim.suite, claim.key_id) == (SM2_SM3.encode(), rudong_key)

    changed = records[0]
    value = changed.value
    producer = new_producer(sm2_regions.kafka, acks="all")
    try:
        producer.send(
            changed.topic,
            key=changed.key,
            value=value[:-1] + bytes([value[-1] ^ 0x01]),
            headers=changed.headers,
            partition=changed.partition,
        )
        producer.flush()
    finally:
        producer.close()
    stats = tongxiang.consume()
    assert (stats.applied, stats.dead_lettered) == (0, 1)
    dead = tongxiang.query("SELECT stage, error_class FROM dead_letters")
    assert dead == [("verify", "BadSignature")]
    assert tongxiang.query("SELECT case_id, version FROM mirror_cases ORDER BY case_id") == mirrored
