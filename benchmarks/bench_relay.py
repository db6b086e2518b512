"""Sustained relay rate next to raw kafka-python for the same messages, in one run.

    .venv/bin/python benchmarks/bench_relay.py [--events 100000] [--rounds 3]
        [--http-events 5000] [--json FILE]

1. Record ``--events`` realistic changes of region 如东 (320623), shared with 桐乡 (330483), into
   a fresh region database with the Python recorder; then the same changes into a second one
   through the SQL function ``casesync_api.record_change`` (and the relay's encoding step over
   them), and the first ``--http-events`` of them into a third through the HTTP intake: the
   recording rates of the three interfaces, side by side.
2. Each round, alternately: (a) raw — a KafkaProducer with the relay's settings (but
   kafka-python's own partitioner) sends the
   outbox's payloads, keys and headers from memory to a fresh topic, then flushes; (b) relay —
   the outbox is marked unpublished again and the relay drains it to 桐乡's inbox under a fresh
   prefix,
   reading from PostgreSQL and marking rows published after the broker's acknowledgement.
3. Medians of the rounds and their ratio (target: relay >= 0.8 x raw).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from typing import Any

from _intake import prepare_intake, record_over_http, record_through_sql, simulated_changes
from _support import (
    fresh_region_database,
    fresh_topic,
    machine,
    median,
    record_changes,
    scratch_topics,
    write_json,
)

from casesync.adapters.postgres import connect, transaction
from casesync.adapters.topics import TopicNames, ensure_topics, existing_topics
from casesync.contract.schemas import load_versions
from casesync.settings import Settings, TopicSettings
from casesync.tuning import tune_for_throughput
from producers.app import kafka_producer
from producers.outbox_store import OutboxStore
from producers.relay import Relay
from producers.routing import Inboxes

REGION, PARTNER = "320623", "330483"


def load_outbox(url: str) -> list[tuple[bytes, bytes, list[tuple[str, bytes]]]]:
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT case_id, event_id::text, event_type, payload FROM outbox ORDER BY id"
            )
            region = REGION.encode()
            return [
                (case_id.encode(), bytes(payload), [
                    ("event_id", event_id.encode()), ("event_type", event_type.encode()),
                    ("fingerprint", bytes(payload[2:10]).hex().encode()),
                    ("source_region", region), ("target_region", PARTNER.encode()),
                ])
                for case_id, event_id, event_type, payload in cur.fetchall()
            ]  # fmt: skip
    finally:
        conn.close()


def raw_rate(
    settings: Settings, messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]
) -> float:
    topic = fresh_topic(settings, "raw")
    producer = kafka_producer(settings.kafka, remember_partitions=False)
    producer.send(topic, key=b"warm-up", value=b"x").get(timeout=30)
    started = time.perf_counter()
    for key, value, headers in messages:
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    return len(messages) / elapsed


def relay_rate(settings: Settings, url: str, count: int) -> float:
    conn = connect(url)
    with transaction(conn) as cur:
        cur.execute("UPDATE outbox SET published_at = NULL")
    with conn.cursor() as cur:
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE outbox")
    conn.close()
    kafka = settings.kafka
    names = TopicNames(scratch_topics(kafka, f"casesync.bench.relay.{uuid.uuid4().hex[:6]}."))
    ensure_topics(kafka, TopicSettings(partitions=6), [names.inbox(PARTNER)])
    finished = threading.Event()
    published = [0]

    def on_published(n: int) -> None:
        published[0] += n
        if published[0] >= count:
            finished.set()

    relay = Relay(
        REGION, OutboxStore(url), lambda: kafka_producer(settings.kafka),
        {s.fingerprint: s for s in load_versions()}, lambda schema: None,
        Inboxes(names, lambda: existing_topics(settings.kafka)), on_published=on_published,
    )  # fmt: skip
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    started = time.perf_counter()
    thread.start()
    finished.wait(timeout=600)
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join()
    return count / elapsed


def recording_rates(settings: Settings, events: int, http_events: int) -> dict[str, Any]:
    """The SQL function's and the HTTP intake's recording rates on the changes the Python
    recorder recorded (same seed), each into a fresh database of its own."""
    changes = simulated_changes(REGION, events, cases=events // 5 + 1, seed=7, partners=[PARTNER])
    url = fresh_region_database(settings, "sql")
    prepare_intake(url, REGION)
    sql = record_through_sql(url, changes)
    print(f"SQL: record {sql.record_rate:,.0f}/s, encode {sql.encode_rate:,.0f}/s",
          file=sys.stderr)  # fmt: skip
    rates: dict[str, Any] = {
        "sql_record_rate": round(sql.record_rate), "sql_encode_rate": round(sql.encode_rate),
    }  # fmt: skip
    if http_events > 0:
        url = fresh_region_database(settings, "http")
        prepare_intake(url, REGION)
        rates["http_events"] = min(http_events, len(changes))
        rates["http_record_rate"] = round(record_over_http(url, REGION, changes[:http_events]))
        print(f"HTTP: record {rates['http_record_rate']:,}/s", file=sys.stderr)
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--http-events", type=int, default=5000, help="0: no HTTP rate")
    parser.add_argument("--json")
    args = parser.parse_args()
    tune_for_throughput()  # as every `casesync` process does
    settings = Settings.from_env()
    url = fresh_region_database(settings, "relay")
    print(f"recording {args.events} events ...", file=sys.stderr)
    record_rate = record_changes(
        url, REGION, args.events, cases=args.events // 5 + 1, seed=7, partners=[PARTNER]
    )
    recording = recording_rates(settings, args.events, args.http_events)
    messages = load_outbox(url)
    raw, relayed = [], []
    for n in range(args.rounds):
        raw.append(raw_rate(settings, messages))
        relayed.append(relay_rate(settings, url, len(messages)))
        print(f"round {n + 1}: raw {raw[-1]:,.0f}/s  relay {relayed[-1]:,.0f}/s", file=sys.stderr)
    result = {
        "events": len(messages),
        "avg_message_bytes": round(sum(len(m[1]) for m in messages) / len(messages)),
        "record_rate": round(record_rate),
        **recording,
        "raw_produce_rate_median": round(median(raw)),
        "relay_rate_median": round(median(relayed)),
        "ratio": round(median(relayed) / median(raw), 3),
        "rounds": {"raw": [round(r) for r in raw], "relay": [round(r) for r in relayed]},
        "machine": machine(),
    }
    print(f"| events | raw kafka-python | relay | relay/raw |\n|---|---|---|---|\n"
          f"| {result['events']:,} | {result['raw_produce_rate_median']:,}/s "
          f"| {result['relay_rate_median']:,}/s | {result['ratio']} |")  # fmt: skip
    print(f"recording: Python {result['record_rate']:,}/s, SQL record_change "
          f"{result['sql_record_rate']:,}/s (then encoding {result['sql_encode_rate']:,}/s), "
          f"HTTP {result.get('http_record_rate', '-')}/s")  # fmt: skip
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
