"""Sustained relay rate next to raw kafka-python for the same messages, and with signing
beside without, in one run.

    .venv/bin/python benchmarks/bench_relay.py [--events 100000] [--rounds 3]
        [--http-events 5000] [--json FILE]

1. Record ``--events`` realistic changes of region 如东 (320623), shared with 桐乡 (330483), into
   a fresh region database with the Python recorder; then the same changes into a second one
   through the SQL function ``casesync_api.record_change`` (and the relay's encoding step over
   them), and the first ``--http-events`` of them into a third through the HTTP intake: the
   recording rates of the three interfaces, side by side.
2. Each round, one after another (the order turning each round): (a) raw — a KafkaProducer with
   the relay's settings (but kafka-python's own partitioner) sends the outbox's payloads, keys and
   routing headers from memory to a fresh topic, then flushes; (b) relay, signing — the outbox
   is marked unpublished again and the relay drains it to 桐乡's inbox under a fresh prefix,
   reading from PostgreSQL, signing each batch (a local federation's key of 如东) and marking
   rows published after the broker's acknowledgement, as deployed; (c) relay, not signing
   (``CASESYNC_SIGNING=off``), the same way; (d) relay, carrying: each record gets a stand-in
   ``signature`` header of exactly the signed header's size (the headers of the first batch of
   each size, signed once, are reused), with no hashing and no signing, so that
   signed/carrying is what hashing and signing cost and carrying/unsigned what kafka-python
   and the broker pay for the header's bytes; (e) raw, carrying — as (a), each message with
   the signature header the relay gives it, so raw carrying/raw is what carrying that header
   costs kafka-python itself, with no casesync code on the way; (f) raw, one byte — as (a),
   each message with a one-byte ``signature`` header, which splits (e) in two: what one more
   header costs kafka-python at all, and what its bytes cost.
3. Medians of the rounds and their ratios (targets: relay >= 0.8 x raw; signing >= 0.9 x not),
   and, from the signing runs themselves, the time spent inside the relay's signer (its trees
   and signatures) and its share of the relay's time: casesync's own cost of signing, with no
   second run whose load on the machine differs.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any, NamedTuple

from _intake import prepare_intake, record_over_http, record_through_sql, simulated_changes
from _support import (
    NOT_TIMED,
    Message,
    StageTime,
    Stopwatch,
    fresh_region_database,
    fresh_topic,
    local_federation,
    machine,
    median,
    outbox_messages,
    record_changes,
    relay_signatures,
    scratch_topics,
    signed_facts,
    stage_figures,
    write_json,
)

from casesync.adapters.postgres import connect, transaction
from casesync.adapters.topics import TopicNames, ensure_topics, existing_topics
from casesync.contract.schemas import load_versions
from casesync.settings import Settings, TopicSettings
from casesync.trust.federation import LocalFederation
from casesync.trust.headers import SIGNATURE, Header
from casesync.trust.keys import SigningKey
from casesync.trust.tree import LeafFields
from casesync.tuning import tune_for_throughput
from producers.app import kafka_producer, relay_signer
from producers.outbox_store import OutboxStore
from producers.relay import Relay
from producers.routing import Inboxes
from producers.signing import RelaySigner

REGION, PARTNER = "320623", "330483"


def signed_messages(messages: list[Message], key: SigningKey) -> list[Message]:
    """``messages`` each with the signature header the relay gives it."""
    signatures = relay_signatures(signed_facts(messages, PARTNER), key)
    return [
        (record_key, value, [*headers, signature])
        for (record_key, value, headers), signature in zip(messages, signatures, strict=True)
    ]


def raw_rate(settings: Settings, messages: list[Message]) -> float:
    topic = fresh_topic(settings, "raw")
    producer = kafka_producer(
        settings.kafka, linger_ms=settings.relay_linger_ms, remember_partitions=False
    )
    producer.send(topic, key=b"warm-up", value=b"x").get(timeout=30)
    started = time.perf_counter()
    for key, value, headers in messages:
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    return len(messages) / elapsed


class CarryingOnly:
    """Stands in for the relay's signer: a batch of n records gets the headers a real signer
    gave a batch of n before (same sizes, hence same bytes on the wire), with no hashing or
    signing. The relay still gathers each record's leaf fields, as it does when it signs."""

    def __init__(self, signer: RelaySigner) -> None:
        self._signer = signer
        self._by_size: dict[int, list[Header]] = {}

    def check_ready(self) -> None:
        self._signer.check_ready()

    def sign(self, leaves: Sequence[LeafFields]) -> list[Header]:
        headers = self._by_size.get(len(leaves))
        if headers is None:
            headers = self._by_size[len(leaves)] = self._signer.sign(list(leaves))
        return headers


class TimedSigner:
    """The relay's signer with the time spent in ``sign`` (its trees and signatures) summed."""

    def __init__(self, signer: RelaySigner | CarryingOnly) -> None:
        self._signer = signer
        self.sign = Stopwatch(signer.sign)

    def check_ready(self) -> None:
        self._signer.check_ready()


class RelayRun(NamedTuple):
    rate: float  # events a second
    cpu_us: float  # this process's CPU per event
    signing: StageTime  # inside the signer (NOT_TIMED when not signing)


def relay_rate(
    settings: Settings,
    url: str,
    count: int,
    trust: LocalFederation | None,
    *,
    carrying_only: bool = False,
) -> RelayRun:
    """The relay's rate draining the whole outbox: signing with ``trust``'s keys, or (None)
    with signing off, or with ``carrying_only`` the stand-in headers of ``CarryingOnly``; this
    process's CPU per event meanwhile, and the time spent inside the signer."""
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
    # The signer is made (and its manifest read) before the clock starts: start-up, not rate.
    signer: Any = relay_signer(trust.apply_to(settings), REGION) if trust is not None else None
    if carrying_only:
        signer = CarryingOnly(signer)
    if signer is not None:
        signer = TimedSigner(signer)
    finished = threading.Event()
    published = [0]

    def on_published(n: int) -> None:
        published[0] += n
        if published[0] >= count:
            finished.set()

    relay = Relay(
        REGION, OutboxStore(url),
        lambda: kafka_producer(settings.kafka, linger_ms=settings.relay_linger_ms),
        {s.fingerprint: s for s in load_versions()}, lambda schema: None,
        Inboxes(names, lambda: existing_topics(settings.kafka)), on_published=on_published,
        signer=signer,
    )  # fmt: skip
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    started, cpu = time.perf_counter(), time.process_time()
    thread.start()
    finished.wait(timeout=600)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    stop.set()
    thread.join()
    signing = signer.sign.per_event(count, elapsed) if signer is not None else NOT_TIMED
    return RelayRun(count / elapsed, cpu / count * 1e6, signing)


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
    messages = outbox_messages(url, REGION, PARTNER)
    trust = local_federation("relay", [REGION, PARTNER])
    carried = signed_messages(messages, trust.keys[REGION])
    # Raw sends: as stored, with the relay's signature header, with a one-byte stand-in for it.
    raw_messages = {
        "raw": messages, "raw_carrying": carried,
        "raw_one_byte": [(k, v, [*h, (SIGNATURE, b"\x01")]) for k, v, h in messages],
    }  # fmt: skip
    relay_parts = ("signed", "unsigned", "carrying")
    parts = ("raw", *relay_parts, "raw_carrying", "raw_one_byte")
    rates: dict[str, list[float]] = {part: [] for part in parts}
    cpu: dict[str, list[float]] = {part: [] for part in relay_parts}  # the relay's, µs an event
    signer_times: list[StageTime] = []  # the signing part's runs: the time inside its signer
    for n in range(args.rounds):
        for part in parts if n % 2 == 0 else parts[::-1]:
            if part in raw_messages:
                rates[part].append(raw_rate(settings, raw_messages[part]))
            else:
                signing = None if part == "unsigned" else trust
                run = relay_rate(
                    settings, url, len(messages), signing, carrying_only=part == "carrying"
                )
                rates[part].append(run.rate)
                cpu[part].append(run.cpu_us)
                if part == "signed":
                    signer_times.append(run.signing)
        print(f"round {n + 1}: " + "  ".join(f"{p} {rates[p][-1]:,.0f}/s" for p in rates),
              file=sys.stderr)  # fmt: skip
    raw, relayed, unsigned, carrying, raw_carrying, raw_one_byte = (median(rates[p]) for p in parts)
    result = {
        "events": len(messages),
        "avg_message_bytes": round(sum(len(m[1]) for m in messages) / len(messages)),
        "record_rate": round(record_rate),
        **recording,
        "raw_produce_rate_median": round(raw),
        "relay_rate_median": round(relayed),
        "relay_unsigned_rate_median": round(unsigned),
        "ratio": round(relayed / raw, 3),
        "signed_over_unsigned": round(relayed / unsigned, 3),
        # Signing split in two: our hashing and signing, then the header's bytes in transit.
        "relay_carrying_rate_median": round(carrying),
        "signed_over_carrying": round(relayed / carrying, 3),
        "carrying_over_unsigned": round(carrying / unsigned, 3),
        # The header's bytes in kafka-python alone: the same messages, raw, with and without it.
        "raw_carrying_rate_median": round(raw_carrying),
        "raw_carrying_over_raw": round(raw_carrying / raw, 3),
        # ... split in two: one more header at all, then its 377 bytes instead of one.
        "raw_one_byte_rate_median": round(raw_one_byte),
        "raw_one_byte_over_raw": round(raw_one_byte / raw, 3),
        "raw_carrying_over_one_byte": round(raw_carrying / raw_one_byte, 3),
        "rounds": {
            "raw": [round(r) for r in rates["raw"]],
            "relay": [round(r) for r in rates["signed"]],
            "relay_unsigned": [round(r) for r in rates["unsigned"]],
            "relay_carrying": [round(r) for r in rates["carrying"]],
            "raw_carrying": [round(r) for r in rates["raw_carrying"]],
            "raw_one_byte": [round(r) for r in rates["raw_one_byte"]],
        },
        # The relay process's CPU per event (medians): less swayed by a busy machine.
        "cpu_us_per_event_signed": round(median(cpu["signed"]), 1),
        "cpu_us_per_event_unsigned": round(median(cpu["unsigned"]), 1),
        "cpu_us_per_event_carrying": round(median(cpu["carrying"]), 1),
        # Inside the signer while the relay signed (trees and signatures), in the same runs as
        # its rate: what signing takes of the relay's time with no second run to compare.
        **stage_figures("signing", signer_times),
        "machine": machine(),
    }
    print(f"| events | raw kafka-python | relay | relay unsigned | relay/raw | signed/unsigned |\n"
          f"|---|---|---|---|---|---|\n"
          f"| {result['events']:,} | {result['raw_produce_rate_median']:,}/s "
          f"| {result['relay_rate_median']:,}/s | {result['relay_unsigned_rate_median']:,}/s "
          f"| {result['ratio']} | {result['signed_over_unsigned']} |\n"
          f"relay CPU per event: signing {result['cpu_us_per_event_signed']} µs, "
          f"not signing {result['cpu_us_per_event_unsigned']} µs, carrying the header's bytes "
          f"only {result['cpu_us_per_event_carrying']} µs\n"
          f"relay carrying only {result['relay_carrying_rate_median']:,}/s: signed/carrying "
          f"{result['signed_over_carrying']}, carrying/unsigned "
          f"{result['carrying_over_unsigned']}\n"
          f"raw kafka-python carrying the header {result['raw_carrying_rate_median']:,}/s: "
          f"raw carrying/raw {result['raw_carrying_over_raw']} (a one-byte stand-in/raw "
          f"{result['raw_one_byte_over_raw']}, carrying/one-byte "
          f"{result['raw_carrying_over_one_byte']})\n"
          f"inside the signer while signing: {result['signing_us_per_event']} µs an event "
          f"({result['signing_cpu_us_per_event']} µs CPU), "
          f"{result['signing_share']:.1%} of the relay's time")  # fmt: skip
    print(f"recording: Python {result['record_rate']:,}/s, SQL record_change "
          f"{result['sql_record_rate']:,}/s (then encoding {result['sql_encode_rate']:,}/s), "
          f"HTTP {result.get('http_record_rate', '-')}/s")  # fmt: skip
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
