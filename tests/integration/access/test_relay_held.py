"""The real relay, as its region's principal, holds rows for an inbox it may no longer write."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka import TopicPartition

from casesync.adapters.kafka_clients import new_consumer
from casesync.adapters.postgres import connect
from casesync.domain.events import Applicant
from casesync.domain.holidays import shipped_calendar
from casesync.domain.vocabulary import ApplicantKind, EventType, HandlingMode
from casesync.ops.status import Verdict, judge_outbox
from casesync.settings import Settings
from consumers.schema import migrate_region
from producers.app import build_codec, build_relay, record_committed
from producers.changes import CaseChange
from producers.outbox_store import read_backlog, read_relay_health
from producers.recorder import CaseRecorder
from producers.relay import Relay, RelayConfig

from .conftest import HOUSING, AccessWorld

pytestmark = [pytest.mark.integration, pytest.mark.secured]

LIFE = (EventType.CASE_SUBMITTED, EventType.CASE_ACCEPTED, EventType.REVIEW_STARTED)


@dataclass
class Source:
    """Region A of the world: its database, recorder and a running relay as ``User:A``."""

    world: AccessWorld
    url: str
    recorder: CaseRecorder
    relay: Relay

    def record(self, case_id: str, step: int, target: str) -> None:
        """The ``step``-th change (0-based) of a housing case shared with ``target``."""
        first = step == 0
        applicant = Applicant(ApplicantKind.PERSON, "王芳")  # the item needs no ID number
        change = CaseChange(
            case_id, LIFE[step], step, datetime.now(UTC),
            item_code=HOUSING if first else None,
            handling_mode=HandlingMode.FULLY_ONLINE if first else None,
            applicant=applicant if first else None,
            target_regions=(target,) if first else None,
        )  # fmt: skip
        record_committed(self.recorder, self.url, [change])

    def query(self, read: Callable[[Any], Any]) -> Any:
        conn = connect(self.url)
        try:
            with conn.cursor() as cur:
                return read(cur)
        finally:
            conn.close()

    def unpublished(self) -> int:
        return int(self.query(lambda cur: read_backlog(cur).unpublished))

    def held_rows(self) -> int:
        health = self.query(read_relay_health)
        return -1 if health is None else int(health.held_rows)

    def event_ids(self, case_id: str) -> list[str]:
        def read(cur: Any) -> list[str]:
            cur.execute("SELECT event_id FROM outbox WHERE case_id = %s ORDER BY id", (case_id,))
            return [str(row[0]) for row in cur.fetchall()]

        return list(self.query(read))


def _wait_for(done: Callable[[], bool], what: str, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while not done():
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def source(access_world: AccessWorld, database_factory: Callable[[str], str]) -> Iterator[Source]:
    """Region A's relay running as A's principal, partnered with B and C."""
    a, b, c, _ = access_world.regions
    ab, ac = access_world.agreement(a, b), access_world.agreement(a, c)
    access_world.apply(ab, ac)
    url = database_factory("held")
    conn = connect(url)
    try:
        migrate_region(conn)
    finally:
        conn.close()
    settings = Settings.from_env({
        **access_world.broker.kafka.environment(),
        "CASESYNC_KAFKA_USERNAME": "",
        "CASESYNC_KAFKA_SECRETS_FILE": str(access_world.credentials.path_for(a)),
        "CASESYNC_DATABASE_URL": url,
        "CASESYNC_TOPIC_PREFIX": access_world.names.prefix,
        # The made-up regions of this test have no keys: what is pinned here is access.
        "CASESYNC_SIGNING": "off",
    })  # fmt: skip
    assert settings.kafka.security.username == a
    recorder = CaseRecorder(a, access_world.catalogue(ab, ac), shipped_calendar(), build_codec())
    relay = build_relay(settings, a, RelayConfig(pause_after_failure_s=0.2))
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    try:
        yield Source(access_world, url, recorder, relay)
    finally:
        stop.set()
        thread.join(timeout=60)


def _keys_and_event_ids(world: AccessWorld, topic: str) -> list[tuple[str, str]]:
    """(key, event id) of every record of ``topic``'s only partition, read as admin."""
    consumer = new_consumer(world.broker.kafka, enable_auto_commit=False)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        end = consumer.end_offsets([partition])[partition]
        out: list[tuple[str, str]] = []
        while consumer.position(partition) < end:
            for records in consumer.poll(timeout_ms=1000).values():
                out.extend((r.key.decode(), dict(r.headers)["event_id"].decode()) for r in records)
        return out
    finally:
        consumer.close()


def test_removing_an_agreement_holds_its_rows_and_restoring_it_delivers_them_in_order(
    source: Source,
) -> None:
    """With A–C removed and applied, A's relay keeps C's rows in the outbox (B's still go out),
    ops status says ERR naming C's inbox and A's principal; with A–C back, the held rows reach
    C's inbox in order and nothing is lost."""
    world = source.world
    a, b, c, _ = world.regions
    ab, ac = world.agreement(a, b), world.agreement(a, c)
    source.record("TO-B", 0, b)
    source.record("TO-C", 0, c)
    _wait_for(lambda: source.unpublished() == 0, "the first rows to be published")

    plan = world.apply(ab)  # A–C ends: A loses WRITE on C's inbox
    assert any(acl.resource_name == world.names.inbox(c) for acl in plan.acls_to_revoke)
    source.record("TO-C", 1, c)
    source.record("TO-C", 2, c)
    source.record("TO-B", 1, b)

    _wait_for(lambda: source.unpublished() == 2 and source.held_rows() == 2,
              "C's two rows to be held and B's to be published")  # fmt: skip
    judged = judge_outbox(2, 1.0, source.query(read_relay_health))
    assert judged.verdict is Verdict.ERR
    assert world.names.inbox(c) in judged.reason
    assert f"User:{a}" in judged.reason

    world.apply(ab, ac)  # A–C is back
    _wait_for(lambda: source.unpublished() == 0, "the held rows to be delivered")
    _wait_for(lambda: source.held_rows() == 0, "the relay to report nothing held")
    for case_id, target in (("TO-C", c), ("TO-B", b)):
        records = _keys_and_event_ids(world, world.names.inbox(target))
        # A resend after a refusal may repeat a record (consumers drop it); order must hold.
        delivered = list(dict.fromkeys(e for key, e in records if key == case_id))
        assert delivered == source.event_ids(case_id)
