"""Key rotation and revocation against the real broker: the real relay picks the key the
manifest says, and the consumer verifies each record against the key's window at its signing
time."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from casesync.adapters.kafka_clients import new_producer
from casesync.cli import main
from casesync.ops.topic_reader import TopicReader
from casesync.testing_regions import RegionFactory, TestRegion
from casesync.testing_trust import Record, TestTrust
from casesync.trust.canonical import format_time, whole_second
from casesync.trust.headers import SIGNATURE, parse_signature
from casesync.trust.keys import SigningKey, new_signing_key, write_signing_key
from consumers.records import SOURCE_HEADER, TARGET_HEADER
from producers.changes import CaseChange

from .conftest import RUDONG, TONGXIANG, housing_cases

pytestmark = pytest.mark.integration

YEAR = timedelta(days=365)


def _federation(
    region_factory: RegionFactory, folder: Path
) -> tuple[TestTrust, TestRegion, TestRegion]:
    """Keys and a manifest of this test's own (the session's stay untouched), and Rudong and
    Tongxiang signing and verifying with them on this test's topics."""
    trust = TestTrust.create(folder, [RUDONG, TONGXIANG])
    factory = RegionFactory(
        region_factory.kafka, region_factory.make_database, region_factory.topic_prefix, trust,
        topics=region_factory.topics,
    )  # fmt: skip
    return trust, factory(RUDONG), factory(TONGXIANG)


def _signers(tongxiang: TestRegion) -> Counter[str]:
    """How many records of Tongxiang's inbox each key id signed."""
    reader = TopicReader(tongxiang.settings.kafka)
    try:
        bounds = reader.bounds(tongxiang.inbox)
        records = reader.read(tongxiang.inbox, bounds.start, bounds.end)
        return Counter(parse_signature(dict(r.headers)[SIGNATURE]).key_id.decode() for r in records)
    finally:
        reader.close()


def _relayed_by(rudong: TestRegion, tongxiang: TestRegion, changes: Sequence[CaseChange]) -> str:
    """Record ``changes`` in Rudong and run its real relay; the one key that signed them."""
    before = _signers(tongxiang)
    rudong.record(changes)
    assert rudong.relay() == len(changes)
    added = _signers(tongxiang) - before
    assert len(added) == 1, added
    return next(iter(added))


def _unsent(
    rudong: TestRegion, tongxiang: TestRegion, changes: Sequence[CaseChange]
) -> list[Record]:
    """``changes`` recorded in Rudong and kept from its relay: unsigned records for Tongxiang's
    inbox, for a test to sign as it likes."""
    rudong.record(changes)
    rows = rudong.query(
        "UPDATE outbox SET published_at = now() WHERE published_at IS NULL"
        " RETURNING id, case_id, payload"
    )
    routing = [(SOURCE_HEADER, RUDONG.encode()), (TARGET_HEADER, TONGXIANG.encode())]
    return [(tongxiang.inbox, case_id.encode(), bytes(payload),
             [*routing, ("event_type", b"CaseSubmitted")])
            for _, case_id, payload in sorted(rows)]  # fmt: skip


def _send(region: TestRegion, records: Sequence[Record]) -> None:
    producer = new_producer(region.settings.kafka, acks="all")
    try:
        for topic, key, value, headers in records:
            producer.send(topic, key=key, value=value, headers=headers)
        producer.flush()
    finally:
        producer.close()


def _mirrored(tongxiang: TestRegion) -> set[str]:
    return {case_id for (case_id,) in tongxiang.query("SELECT case_id FROM mirror_cases")}


def _cases(first: int, count: int) -> set[str]:
    return {f"{RUDONG}-2026-{n:07d}" for n in range(first, first + count)}


def _sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.2)


def test_a_key_announced_ahead_takes_over_and_the_old_one_verifies_only_in_its_window(
    region_factory: RegionFactory, tmp_path: Path
) -> None:
    """Rotation: a new key announced before its window opens is not used until then; the real
    relay then signs with it by itself; records the old key signed before the switch, and inside
    its window after it, verify and apply; a record the old key signs after its window closed is
    refused KeyNotValidThen, and later records still apply."""
    trust, rudong, tongxiang = _federation(region_factory, tmp_path)
    old = trust.keys[RUDONG]
    assert _relayed_by(rudong, tongxiang, housing_cases(0, 3, steps=1)) == old.key_id

    new = new_signing_key(RUDONG)
    write_signing_key(new, trust.key_dir)
    now = whole_second(datetime.now(UTC))
    # 15 s for the publish and one relay run on a busy machine before the new window opens
    switch, close = now + timedelta(seconds=15), now + timedelta(seconds=17)
    others = [e for e in trust.entries() if e.region != RUDONG]
    trust.publish([*others, old.entry(now - YEAR, close), new.entry(switch, switch + YEAR)])
    assert _relayed_by(rudong, tongxiang, housing_cases(3, 3, steps=1)) == old.key_id

    _sleep_until(switch)
    assert _relayed_by(rudong, tongxiang, housing_cases(6, 3, steps=1)) == new.key_id
    in_window, too_late, after = (_unsent(rudong, tongxiang, housing_cases(n, 1, steps=1))
                                  for n in (9, 10, 11))  # fmt: skip
    trust.sign(in_window, RUDONG, TONGXIANG, key=old, at=switch + timedelta(seconds=1))
    _sleep_until(close)
    trust.sign(too_late, RUDONG, TONGXIANG, key=old)
    trust.sign(after, RUDONG, TONGXIANG, key=new)
    _send(rudong, [*in_window, *too_late, *after])

    tongxiang.consume()
    assert _mirrored(tongxiang) == _cases(0, 10) | _cases(11, 1)
    ((stage, error_class, reason),) = tongxiang.query(
        "SELECT stage, error_class, reason FROM dead_letters"
    )
    assert (stage, error_class) == ("verify", "KeyNotValidThen")
    assert f"key {old.key_id} was valid only until" in reason


def test_a_revoked_keys_signatures_verify_before_the_revocation_and_are_refused_after(
    region_factory: RegionFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Revocation made with ``casesync keys`` (a new key, the old one revoked at T, signed by
    the root): the relay signs with the new key; records the revoked key signed before T (the
    relay's, still unread, and one signed just before T) apply; one crafted with the revoked key
    and a time after T is refused KeyNotValidThen, saying it was revoked."""
    trust, rudong, tongxiang = _federation(region_factory, tmp_path / "trust")
    lost = trust.keys[RUDONG]
    assert _relayed_by(rudong, tongxiang, housing_cases(0, 3, steps=1)) == lost.key_id

    revoked_at = whole_second(datetime.now(UTC)) + timedelta(seconds=1)
    replacement = _revoke_with_cli(trust, lost, revoked_at, tmp_path, monkeypatch, capsys)
    assert _relayed_by(rudong, tongxiang, housing_cases(3, 3, steps=1)) == replacement
    before, after = (_unsent(rudong, tongxiang, housing_cases(n, 1, steps=1)) for n in (6, 7))
    trust.sign(before, RUDONG, TONGXIANG, key=lost, at=revoked_at - timedelta(seconds=1))
    trust.sign(after, RUDONG, TONGXIANG, key=lost, at=revoked_at + timedelta(seconds=1))
    _send(rudong, [*before, *after])

    tongxiang.consume()
    assert _mirrored(tongxiang) == _cases(0, 7)
    ((stage, error_class, reason),) = tongxiang.query(
        "SELECT stage, error_class, reason FROM dead_letters"
    )
    assert (stage, error_class) == ("verify", "KeyNotValidThen")
    assert f"key {lost.key_id} was revoked at" in reason


def _revoke_with_cli(
    trust: TestTrust,
    lost: SigningKey,
    revoked_at: datetime,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> str:
    """As an operator would: ``keys new`` for Rudong, then the next manifest adding it and
    revoking ``lost`` from ``revoked_at``, signed by the root, in the file processes read.
    Returns the new key's id."""
    monkeypatch.setenv("CASESYNC_SIGNING_KEY_DIR", str(trust.key_dir))
    monkeypatch.setenv("CASESYNC_TRUST_ROOT", trust.root_text)
    root_file = write_signing_key(trust.root, folder)
    entry_file, unsigned = folder / "entry.json", folder / "next.json"

    def casesync(*argv: str) -> str:
        capsys.readouterr()
        assert main(["--log-level", "WARNING", *argv]) == 0, argv
        return capsys.readouterr().out

    entry_file.write_text(casesync("keys", "new", "--region", RUDONG))
    casesync("keys", "manifest", "build", "--from", str(trust.manifest_file),
             "--add", str(entry_file), "--revoke", lost.key_id,
             "--revoked-at", format_time(revoked_at), "--out", str(unsigned))  # fmt: skip
    casesync("keys", "manifest", "sign", str(unsigned), "--root-key", str(root_file),
             "--out", str(trust.manifest_file))  # fmt: skip
    assert "ok: manifest version 2" in casesync(
        "keys", "manifest", "verify", str(trust.manifest_file)
    )
    key_id = json.loads(entry_file.read_text())["key_id"]
    assert isinstance(key_id, str)
    return key_id
