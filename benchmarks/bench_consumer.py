"""Consumer apply rate for 100k events next to its two limits, and with verification beside
without, measured in the same run.

    .venv/bin/python benchmarks/bench_consumer.py [--events 100000] [--rounds 3] [--naive 5000]
                                                  [--json FILE]

1. Record ``--events`` realistic changes of 如东 (320623) shared with 桐乡 (330483) into a fresh
   source database and send its outbox twice to fresh inboxes of 桐乡 (6 partitions each), with
   the headers the relay writes: once unsigned, once signed as the relay signs (one signature per
   256 records, a local federation's key of 如东).
2. Limits, each over the same events:
   raw  - kafka-python consumes the whole unsigned topic and decodes every value with the codec
          (and the signed one too: what the signature header's bytes cost kafka-python alone);
   COPY - the rows the consumer writes (one history row per event, one mirror row per case)
          are bulk-COPYed into fresh tables, in one transaction, from memory.
3. consumer - 桐乡's ``RegionConsumer`` (one process) applies a topic into a fresh region
   database: (verify,) decode, validate, sequence, mirror upsert, history, positions, one
   transaction per adaptive batch. Timed from decoding its first batch to its last commit (the
   group join and the first read of the manifest before it are not part of the apply rate).
   ``--rounds`` rounds, each running three, in alternating order: verifying the signed topic
   (as deployed), not verifying the unsigned one (``CASESYNC_SIGNING=off``), and carrying: not
   verifying the signed topic, so that verified/carrying is what verification costs and
   carrying/unverified what reading the signature headers' bytes costs; medians. In the
   verifying runs, the time spent inside the verify step and its share of the consumer's time:
   verification's own cost, with no second run whose load on the machine differs.
4. naive - one message, one INSERT of each row, one commit per event, over the first
   ``--naive`` events (its rate does not depend on how many).
Targets: consumer >= 0.6 x min(raw, COPY), >= 20 x naive; verifying >= 0.9 x not verifying.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import sys
import threading
import time
import uuid
from typing import Any

from _support import (
    NOT_TIMED,
    Message,
    StageTime,
    Stopwatch,
    cpu_per_event,
    cpu_times,
    fresh_region_database,
    header_bytes,
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
from kafka import TopicPartition

from casesync.adapters.kafka_clients import new_consumer, new_producer
from casesync.adapters.postgres import connect, transaction
from casesync.adapters.topics import TopicNames, ensure_topics
from casesync.contract.codec import case_event_codec
from casesync.settings import Settings, TopicSettings
from casesync.snapshots import canonical, snapshot_to_json
from casesync.trust.federation import LocalFederation
from casesync.trust.keys import SigningKey
from casesync.tuning import tune_for_consuming, tune_for_throughput
from consumers.applier import BatchApplier, Triaged
from consumers.compose import ConsumerOptions, build_consumer, plan_consumer

SOURCE, PARTNER = "320623", "330483"


def publish(settings: Settings, records: list[Message], topic: str, key: SigningKey | None) -> int:
    """Send ``records`` to ``topic``, signed by ``key`` as the relay signs when given; the mean
    bytes per record its signature headers take."""
    producer = new_producer(settings.kafka, acks="all", linger_ms=5, batch_size=512 * 1024)
    signatures = relay_signatures(signed_facts(records, PARTNER), key) if key else None
    added = 0
    for n, (record_key, value, headers) in enumerate(records):
        if signatures is not None:
            headers = [*headers, signatures[n]]
            added += header_bytes([signatures[n]])
        producer.send(topic, key=record_key, value=value, headers=headers)
    producer.flush()
    producer.close()
    return round(added / len(records))


def raw_rate(settings: Settings, topic: str, count: int) -> float:
    decode = case_event_codec().decode
    consumer = new_consumer(
        settings.kafka, enable_auto_commit=False,
        fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=8 * 1024 * 1024,
    )  # fmt: skip
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    seen, started = 0, time.perf_counter()
    while seen < count:
        for records in consumer.poll(timeout_ms=1000, max_records=20_000).values():
            for record in records:
                decode(record.value)
            seen += len(records)
    elapsed = time.perf_counter() - started
    consumer.close()
    return count / elapsed


def copy_rate(settings: Settings, source_url: str, count: int) -> float:
    """COPY the rows the consumer writes for these events into fresh tables, from memory."""
    decode = case_event_codec().decode
    conn = connect(source_url)
    with transaction(conn) as cur:
        cur.execute("SELECT payload FROM outbox ORDER BY id")
        events = [decode(bytes(row[0])) for row in cur.fetchall()]
    conn.close()
    latest = {e.case_id: e for e in events}
    history = io.StringIO()
    for n, e in enumerate(events):
        history.write(
            f"{e.case_id}\t{e.case_version}\t{e.event_id}\t{e.event_type.value}\t"
            f"{e.snapshot.state.value}\t{e.source_region}\t{e.occurred_at.isoformat()}\tt\t0\t{n}\n"
        )
    mirror = io.StringIO()
    for e in latest.values():
        s = e.snapshot
        snapshot = canonical(snapshot_to_json(s)).replace("\\", "\\\\")
        mirror.write(
            f"{e.case_id}\t{e.source_region}\t{e.case_version}\t{s.state.value}\t{s.item_code}\t"
            f"{s.handling_mode.value}\t{s.step_owner}\t{s.promised_deadline.isoformat()}\t"
            f"{e.correlation_id}\t{e.occurred_at.isoformat()}\t{snapshot}\t{e.event_id}\n"
        )
    target = fresh_region_database(settings, "copy")
    conn = connect(target)
    started = time.perf_counter()
    with transaction(conn) as cur:
        history.seek(0)
        mirror.seek(0)
        cur.copy_expert("COPY mirror_history (case_id, version, event_id, event_type, state,"
                        " source_region, occurred_at, topic, partition, \"offset\") FROM STDIN",
                        history)  # fmt: skip
        cur.copy_expert("COPY mirror_cases (case_id, source_region, version, state, item_code,"
                        " handling_mode, step_owner, promised_deadline, correlation_id,"
                        " updated_at, snapshot, last_event_id) FROM STDIN", mirror)  # fmt: skip
    elapsed = time.perf_counter() - started
    conn.close()
    return count / elapsed


def consumer_rate(
    settings: Settings, count: int, trust: LocalFederation | None
) -> tuple[float, dict[str, Any], StageTime]:
    """The consumer's apply rate over ``settings``' inbox: verifying with ``trust``'s manifest,
    or (None) with signing off; its details, and the time inside its verify step."""
    url = fresh_region_database(settings, "consumer")
    local = Settings(
        kafka_bootstrap=settings.kafka_bootstrap, kafka_security=settings.kafka_security,
        database_url=url, topic_prefix=settings.topic_prefix,
        kafka_overridden=True, database_overridden=True, signing=False,
    )  # fmt: skip
    if trust is not None:
        local = trust.apply_to(local)
    options = ConsumerOptions(region=PARTNER)
    consumer = build_consumer(local, options, plan_consumer(local, options))
    times: list[float] = []
    cpu: list[dict[str, float]] = []  # at the first batch, and when the last one committed
    written = 0
    triage, apply = BatchApplier.triage, BatchApplier.apply_triaged
    inside: Stopwatch | None = None  # the verify step, once the first batch comes

    def timed_triage(self: BatchApplier, *args: Any) -> Any:
        nonlocal inside
        if not times:
            verify = getattr(self._triage, "_verify", None)
            if verify is not None:  # the manifest's first read is start-up, not apply rate
                verify._anchor.start()
                inside = self._triage._verify = Stopwatch(verify)
            cpu.append(cpu_times())
            times.append(time.perf_counter())
        return triage(self, *args)

    def timed_apply(self: BatchApplier, batch: Triaged, *args: Any) -> Any:
        nonlocal written
        result = apply(self, batch, *args)
        times[1:] = [time.perf_counter()]
        written += len(batch.records)
        if written >= count:
            cpu[1:] = [cpu_times()]
        return result

    BatchApplier.triage = timed_triage  # type: ignore[method-assign,assignment]
    BatchApplier.apply_triaged = timed_apply  # type: ignore[method-assign,assignment]
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop, 2.0))
    thread.start()
    thread.join()
    BatchApplier.triage, BatchApplier.apply_triaged = triage, apply  # type: ignore[method-assign]
    stats = consumer.stats
    assert stats.records == count, (stats, count)
    elapsed = times[1] - times[0]
    details = {
        "transactions": stats.batches,
        "applied": stats.applied,
        # CPU per event while it applied: where the time goes, and why the cores run out.
        "cpu_us_per_event": cpu_per_event(cpu[0], cpu[1], count),
    }
    verifying = inside.per_event(count, elapsed) if inside is not None else NOT_TIMED
    return count / elapsed, details, verifying


def naive_rate(settings: Settings, topic: str, limit: int) -> float:
    """One message, one INSERT per row, one commit: the baseline the issue compares with."""
    url = fresh_region_database(settings, "naive")
    decode = case_event_codec().decode
    conn = connect(url)
    consumer = new_consumer(
        settings.kafka, topic, enable_auto_commit=False,
        auto_offset_reset="earliest", group_id=f"bench-naive-{uuid.uuid4().hex[:6]}",
    )  # fmt: skip
    done, started = 0, None
    for message in consumer:
        started = started or time.perf_counter()
        e = decode(message.value)
        s = e.snapshot
        with transaction(conn) as cur:
            cur.execute(
                "INSERT INTO mirror_cases (case_id, source_region, version, state, item_code,"
                " handling_mode, step_owner, promised_deadline, correlation_id, updated_at,"
                " snapshot, last_event_id) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
                " ON CONFLICT (case_id) DO UPDATE SET version = EXCLUDED.version,"
                " state = EXCLUDED.state, snapshot = EXCLUDED.snapshot",
                (e.case_id, e.source_region, e.case_version, s.state.value, s.item_code,
                 s.handling_mode.value, s.step_owner, s.promised_deadline, e.correlation_id,
                 e.occurred_at, canonical(snapshot_to_json(s)), e.event_id),
            )  # fmt: skip
            cur.execute(
                "INSERT INTO mirror_history (case_id, version, event_id, event_type, state,"
                " source_region, occurred_at, topic, partition, \"offset\")"
                " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                (e.case_id, e.case_version, e.event_id, e.event_type.value,
                 s.state.value, e.source_region, e.occurred_at, message.topic,
                 message.partition, message.offset),
            )  # fmt: skip
            cur.execute(
                "INSERT INTO consumer_positions (topic, partition, next_offset)"
                " VALUES (%s, %s, %s) ON CONFLICT (topic, partition)"
                " DO UPDATE SET next_offset = EXCLUDED.next_offset",
                (message.topic, message.partition, message.offset + 1),
            )
        consumer.commit()
        done += 1
        if done >= limit:
            break
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    conn.close()
    return done / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--naive", type=int, default=5_000)
    parser.add_argument("--json")
    args = parser.parse_args()
    tune_for_throughput()  # as every `casesync` process does
    tune_for_consuming()  # as `casesync consume` does
    base = Settings.from_env()
    trust = local_federation("consumer", [SOURCE, PARTNER])
    run = uuid.uuid4().hex[:6]
    # The same events twice: unsigned, and signed as the relay signs them.
    plain = dataclasses.replace(
        base, topic_prefix=scratch_topics(base.kafka, f"casesync.bench.{run}.")
    )
    signed = dataclasses.replace(
        base, topic_prefix=scratch_topics(base.kafka, f"casesync.bench.{run}s.")
    )
    for settings in (plain, signed):
        names = TopicNames(settings.topic_prefix)
        ensure_topics(
            settings.kafka, TopicSettings(partitions=6),
            [names.inbox(PARTNER), names.dlq(PARTNER)], compacted=[names.schemas],
        )  # fmt: skip
    topic = TopicNames(plain.topic_prefix).inbox(PARTNER)
    source = fresh_region_database(base, "source")
    print(f"recording and publishing {args.events} events ...", file=sys.stderr)
    record_changes(
        source, SOURCE, args.events, cases=args.events // 4 + 1, seed=11, partners=[PARTNER],
        batch_size=2000,
    )  # fmt: skip
    records = outbox_messages(source, SOURCE, PARTNER)
    count = len(records)
    publish(plain, records, topic, None)
    added = publish(signed, records, TopicNames(signed.topic_prefix).inbox(PARTNER),
                    trust.keys[SOURCE])  # fmt: skip
    print("raw consume+decode ...", file=sys.stderr)
    raw = raw_rate(plain, topic, count)
    # The same, reading the signed topic: what the header's bytes cost kafka-python alone.
    raw_carrying = raw_rate(signed, TopicNames(signed.topic_prefix).inbox(PARTNER), count)
    print("bulk COPY ...", file=sys.stderr)
    copy = copy_rate(plain, source, count)
    modes = ("unverified", "verified", "carrying")
    rates: dict[str, list[float]] = {mode: [] for mode in modes}
    cpu: dict[str, list[float]] = {mode: [] for mode in modes}  # the process's, per event
    verifying: list[StageTime] = []  # the verifying runs': the time inside the verify step
    details: dict[str, dict[str, Any]] = {}
    for n in range(args.rounds):
        for mode in modes if n % 2 == 0 else modes[::-1]:
            print(f"consumer, {mode}, round {n + 1} ...", file=sys.stderr)
            if mode == "verified":
                rate, details[mode], timed = consumer_rate(signed, count, trust)
                verifying.append(timed)
            else:
                rate, details[mode], _ = consumer_rate(plain if mode == "unverified" else signed,
                                                       count, None)  # fmt: skip
            rates[mode].append(rate)
            cpu[mode].append(details[mode]["cpu_us_per_event"]["this"])
    applied, unverified, carrying = (
        median(rates[m]) for m in ("verified", "unverified", "carrying")
    )
    cpu_verified, cpu_unverified = median(cpu["verified"]), median(cpu["unverified"])
    print("naive consumer ...", file=sys.stderr)
    naive = naive_rate(plain, topic, min(args.naive, count))
    limit = min(raw, copy)
    result = {
        "events": count,
        "raw_consume_decode_rate": round(raw),
        "raw_carrying_consume_decode_rate": round(raw_carrying),
        "raw_carrying_over_raw": round(raw_carrying / raw, 3),
        "bulk_copy_rate": round(copy),
        "consumer_rate": round(applied),
        "consumer_unverified_rate": round(unverified),
        "verified_over_unverified": round(applied / unverified, 3),
        # Verification's cost split: our checks, then the signature headers' bytes on the way in.
        "consumer_carrying_rate": round(carrying),
        "verified_over_carrying": round(applied / carrying, 3),
        "carrying_over_unverified": round(carrying / unverified, 3),
        "cpu_us_per_event_carrying": round(median(cpu["carrying"]), 1),
        "signature_bytes_per_record": added,
        "rounds": {mode: [round(r) for r in values] for mode, values in rates.items()},
        # The consumer process's own CPU per event (medians): less swayed by a busy machine.
        "cpu_us_per_event_verified": round(cpu_verified, 1),
        "cpu_us_per_event_unverified": round(cpu_unverified, 1),
        # Inside the verify step while verifying, in the same runs as the rate: what
        # verification takes of the consumer's time with no second run to compare.
        **stage_figures("verify", verifying),
        "naive_rate": round(naive),
        "consumer_over_limit": round(applied / limit, 3),
        "consumer_over_naive": round(applied / naive, 1),
        "consumer": details["verified"],
        "consumer_unverified": details["unverified"],
        "machine": machine(),
    }
    print(
        "| events | raw consume+decode | bulk COPY | consumer | unverified | verified/unverified "
        "| naive | consumer/min(limits) | consumer/naive |\n|---|---|---|---|---|---|---|---|---|\n"
        f"| {count:,} | {raw:,.0f}/s | {copy:,.0f}/s | {applied:,.0f}/s | {unverified:,.0f}/s "
        f"| {result['verified_over_unverified']} | {naive:,.0f}/s "
        f"| {result['consumer_over_limit']} | {result['consumer_over_naive']}x |\n"
        f"signature headers: {added} bytes per record; rounds: {result['rounds']}; consumer CPU "
        f"per event: verified {cpu_verified:.1f} µs, unverified {cpu_unverified:.1f} µs, "
        f"carrying {result['cpu_us_per_event_carrying']} µs\ncarrying (signed topic, not "
        f"verified) {carrying:,.0f}/s: verified/carrying {result['verified_over_carrying']}, "
        f"carrying/unverified {result['carrying_over_unverified']}\nraw consume+decode of the "
        f"signed topic {raw_carrying:,.0f}/s: raw carrying/raw {result['raw_carrying_over_raw']}"
        f"\ninside the verify step while verifying: {result['verify_us_per_event']} µs an event "
        f"({result['verify_cpu_us_per_event']} µs CPU), {result['verify_share']:.1%} of the "
        "consumer's time"
    )
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
