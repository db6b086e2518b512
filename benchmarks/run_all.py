"""``make bench``: every benchmark in one go on this machine, then BENCHMARKS.md.

Runs, one after another (never two at once, so they do not share the two cores):
  bench_codec.py    encode/decode on one core, beside fastavro doing the same work;
  bench_relay.py    relay rate beside raw kafka-python produce of the same messages, signing
                    beside not signing, and the recording rates of the Python recorder, the SQL
                    function and the HTTP intake;
  bench_consumer.py apply rate beside raw consume+decode, bulk COPY and a naive consumer,
                    verifying beside not verifying;
  bench_e2e.py      end-to-end throughput and sync latency with every part running, on the
                    local broker and on a three-node cluster (RF 3, min ISR 2) beside it.
Relay, consumer and end to end also run against a plaintext broker of their own, each right
after its secured run, so TLS and SCRAM are measured side by side in one run.
Each writes JSON into bench-results/; this script renders them as BENCHMARKS.md
(``--render-only``: render the last run's JSON again, running nothing).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _support import machine

from casesync.settings import DEFAULT_RELAY_LINGER_MS
from casesync.trust.native import load_settle, load_signed_tree

HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent / "bench-results"
STEPS = (
    ("codec", ["bench_codec.py"]),
    ("relay", ["bench_relay.py", "--events", "100000", "--rounds", "7"]),
    ("consumer", ["bench_consumer.py", "--events", "100000", "--rounds", "7"]),
    (
        "e2e",
        [
            "bench_e2e.py",
            "--events",
            "100000",
            "--rate",
            "1000",
            "--seconds",
            "20",
            "--cluster",
            "--unsigned",
        ],
    ),
)
COMPARED_WITH_PLAINTEXT = ("relay", "consumer", "e2e")
# A plaintext stack beside the secured one of `make up`: its own folder and ports.
PLAINTEXT_STACK = {
    "CASESYNC_RUN_DIR": str(HERE.parent / ".run" / "bench-plaintext"),
    "CASESYNC_LOCAL_KAFKA_PORT": "19492",
    "CASESYNC_LOCAL_POSTGRES_PORT": "15832",
    "CASESYNC_KAFKA_SECURITY": "plaintext",
    "CASESYNC_KAFKA_BOOTSTRAP": "",
    "CASESYNC_DATABASE_URL": "",
}


def run_step(name: str, argv: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    out = RESULTS / f"{name}.json"
    began = time.monotonic()
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, *argv, "--json", str(out)], cwd=HERE, check=True,
                   env={**os.environ, **(env or {})})  # fmt: skip
    print(f"[bench] {name} done in {time.monotonic() - began:.0f} s", file=sys.stderr)
    return dict(json.loads(out.read_text()))


def verdict(value: float, target: float, higher_is_better: bool = True) -> str:
    met = value >= target if higher_is_better else value <= target
    if met:
        return "met"
    ratio = value / target if higher_is_better else target / value
    if ratio >= 0.995:  # a percentage would round to 100: say by how much
        return f"missed (by {abs(target - value):.4f})"
    return f"missed ({ratio:.0%} of target)"


def render(r: dict[str, dict[str, Any]]) -> str:
    codec = {
        row["case"]: row.get("events_per_s", row.get("value")) for row in r["codec"]["results"]
    }
    relay, consumer, e2e = r["relay"], r["consumer"], r["e2e"]
    tp, lat = e2e["throughput"], e2e["latency"]
    linger = e2e.get("relay_linger_ms", DEFAULT_RELAY_LINGER_MS)  # absent from older results
    m = consumer.get("machine") or machine()  # the machine of the run, also with --render-only
    lines = [
        "# casesync benchmarks",
        "",
        f"Measured by `make bench` on {time.strftime('%Y-%m-%d')}: {m['cpu_count']} cores "
        f"({m['processor']}), {m['memory_gib']} GiB, Python {m['python']}; Apache Kafka 4.3.1 "
        "and PostgreSQL 15 on the same machine (loopback), started by `make up`. "
        "Every ratio compares figures taken in the same run, side by side.",
        "",
        "## Targets",
        "",
        "| what | measured | target | verdict |",
        "|---|---|---|---|",
        f"| end-to-end throughput (record→relay→broker→consumer→mirror, all at once) "
        f"| {tp['events_per_s']:,} events/s | ≥ 10,000 | {verdict(tp['events_per_s'], 10_000)} |",
        f"| p99 sync latency at {lat['target_rate']:g} events/s | {lat['p99_ms']} ms "
        f"| ≤ 200 ms | {verdict(lat['p99_ms'], 200, higher_is_better=False)} |",
        f"| consumer vs naive consumer | {consumer['consumer_over_naive']}× | ≥ 20× "
        f"| {verdict(consumer['consumer_over_naive'], 20)} |",
        f"| consumer vs min(raw consume+decode, bulk COPY) | {consumer['consumer_over_limit']} "
        f"| ≥ 0.6 | {verdict(consumer['consumer_over_limit'], 0.6)} |",
        f"| relay vs raw kafka-python produce | {relay['ratio']} | ≥ 0.8 "
        f"| {verdict(relay['ratio'], 0.8)} |",
        *_signature_targets(relay, consumer),
        *[
            f"| {part} secured vs plaintext | {ratio} | ≥ 0.8 | {verdict(ratio, 0.8)} |"
            for part, _, _, ratio in _secured_vs_plaintext(r)
        ],
    ]
    lines += _cluster_targets(e2e.get("cluster"))
    for case in ("encode CaseEvent", "decode CaseEvent"):
        if case in codec:
            lines.append(f"| codec: {case} (one core) | {codec[case]:,}/s | ≥ 150,000 "
                         f"| {verdict(codec[case], 150_000)} |")  # fmt: skip
    lines += [
        "",
        "## End to end",
        "",
        f"- Throughput: {tp['events']:,} events in {tp['seconds']} s = "
        f"**{tp['events_per_s']:,} events/s**. Two regions (如东 320623, 桐乡 330483), each a "
        "`casesync run` process (relay + consumer) plus a `casesync simulate` process recording "
        "toward the other, flat out; timed from the first recording to the last mirror row.",
        f"- Sync latency at {lat['target_rate']:g} events/s (achieved {lat['achieved_rate']}/s, "
        f"{lat['events']:,} events): p50 {lat['p50_ms']} ms, p90 {lat['p90_ms']} ms, "
        f"**p99 {lat['p99_ms']} ms**, p99.9 {lat['p999_ms']} ms, max {lat['max_ms']} ms — from "
        "the change's `occurred_at` in the source to its mirror row's write in the partner"
        f"{_load(lat)}.",
        *_cluster_figures(e2e.get("cluster")),
        "",
        *_signature_figures(relay, consumer, tp),
        "## Secured against plaintext",
        "",
        "The broker of `make up` takes clients on SASL_SSL (TLS 1.3, SCRAM-SHA-512) with the "
        "standard authorizer; the same runs against a plaintext broker of their own, each "
        "right after its secured run:",
        "",
        "| part | secured | plaintext | ratio |",
        "|---|---|---|---|",
        *[
            f"| {part} | {secured:,}/s | {plain:,}/s | {ratio} |"
            for part, secured, plain, ratio in _secured_vs_plaintext(r)
        ],
        "",
        "## Limits beside our parts",
        "",
        "| part | ours | limit (same run) | ratio |",
        "|---|---|---|---|",
        f"| relay (PostgreSQL outbox → Kafka, signing) | {relay['relay_rate_median']:,}/s "
        f"| raw kafka-python produce {relay['raw_produce_rate_median']:,}/s | {relay['ratio']} |",
        f"| consumer (Kafka → mirror, verifying) | {consumer['consumer_rate']:,}/s "
        f"| raw consume+decode "
        f"{consumer['raw_consume_decode_rate']:,}/s, bulk COPY {consumer['bulk_copy_rate']:,}/s "
        f"| {consumer['consumer_over_limit']} |",
        f"| naive consumer (one message, one INSERT, one commit) | {consumer['naive_rate']:,}/s "
        f"| — | ours is {consumer['consumer_over_naive']}× |",
        "",
        f"Relay rounds (alternating, same messages): raw "
        f"{', '.join(f'{r:,}' for r in relay['rounds']['raw'])}/s; relay "
        f"{', '.join(f'{r:,}' for r in relay['rounds']['relay'])}/s. The ratio is of the medians.",
        "",
        *_recording(relay),
        f"## Codec (one core, median of 5 × 50k events of {codec.get('mean message bytes')} bytes"
        + (", compiled with Cython)" if r["codec"].get("meta", {}).get("compiled") else ")"),
        "",
        "| case | casesync | fastavro alone |",
        "|---|---|---|",
        *[
            f"| {row['case']} | {row['events_per_s']:,}/s | "
            + (f"{row['fastavro_per_s']:,}/s |" if "fastavro_per_s" in row else "— |")
            for row in r["codec"]["results"]
            if "events_per_s" in row
        ],
        "",
        "## Where the time goes",
        "",
        *_consumer_cpu(consumer),
        f"- Relay: the rounds vary by {_spread(relay['rounds']['relay'])} here, the raw loop's "
        f"by {_spread(relay['rounds']['raw'])}; the ratio is of the medians. ~80% of the relay's "
        "main thread is kafka-python's `send()`, cheaper per message than in the raw loop "
        "because the relay remembers each key's partition and hashes new keys a word at a time. "
        "The next batch is read on a second connection while the current one is sent. After a "
        "read that emptied the outbox it reads again when a commit announces rows (or after a "
        "quarter of a second at the latest), and "
        "its reads mark published rows' index entries dead instead of revisiting them until "
        "a vacuum (profiled on 2026-11-27).",
        "- End to end, every part shares the two cores. Sampled per process during a "
        "throughput run on 2026-11-27: the two region services (relay + consumer) took ~0.67 "
        "core, the two recorders ~0.57 (92% of their samples in `CaseRecorder.record_many`, the "
        "regional systems' own write path), PostgreSQL ~0.48 and the broker ~0.11: 1.83 of 2 "
        "cores. More throughput needs less work per event or more cores.",
        "- Sync latency: relays sleep on `LISTEN` and wake on the outbox trigger's `NOTIFY`; "
        "mirror batches commit without waiting for their WAL flush. What is left is the "
        f"recorder's own commit, the producer's {linger} ms linger (`CASESYNC_RELAY_LINGER_MS`), "
        "one consumer transaction and "
        "scheduling on busy cores. Each phase starts after a `CHECKPOINT`, and traffic starts "
        "once both relays lead and both consumers hold their partitions.",
        f"- Codec: both directions run code generated per schema pair and compiled with Cython "
        f"by `make setup`, {_codec_gain(r['codec']['results'])} fastavro doing the same work.",
        "",
        "## Method",
        "",
        "`make bench` runs `benchmarks/run_all.py`, which runs each script in turn and writes "
        "`bench-results/*.json`. Each script builds fresh databases and topics, so runs do not "
        "see each other's data, and removes them when it ends. The machine is shared: run it "
        "twice before trusting a 10% change.",
        "",
    ]
    return "\n".join(lines)


def _recording(relay: dict[str, Any]) -> list[str]:
    """The recording interfaces side by side, as bench_relay measured them (none in results
    from before it did)."""
    if "sql_record_rate" not in relay:
        return []
    lines = [
        "## Recording a change (same simulated changes, same run)",
        "",
        "| interface | recorded/s | how |",
        "|---|---|---|",
        f"| Python recorder (`CaseRecorder.record_many`) | {relay['record_rate']:,} "
        f"| {relay['events']:,} changes, 1,000 to a transaction |",
        f"| SQL `casesync_api.record_change` | {relay['sql_record_rate']:,} "
        f"| the same changes, one call each, 1,000 to a transaction; the relay's encoding step "
        f"then turns them into Avro at {relay['sql_encode_rate']:,}/s |",
    ]
    if "http_record_rate" in relay:
        lines.append(
            f"| HTTP intake (`casesync serve`) | {relay['http_record_rate']:,} "
            f"| the first {relay['http_events']:,} of them, 4 clients with kept-alive "
            "connections, one change and one transaction per request |"
        )
    return [*lines, ""]


def _signature_targets(relay: dict[str, Any], consumer: dict[str, Any]) -> list[str]:
    """Target rows of signing and verification beside their absence (runs that measured it)."""
    rows = []
    if "signed_over_unsigned" in relay:
        ratio = _signing_ratio(relay)
        rows.append(
            f"| relay signing vs not signing | {_near(ratio, 0.9)} | ≥ 0.9 "
            f"| {verdict(ratio, 0.9)} |"
        )
    if "verified_over_unverified" in consumer:
        ratio = _verifying_ratio(consumer)
        rows.append(
            f"| consumer verifying vs not verifying | {_near(ratio, 0.9)} | ≥ 0.9 "
            f"| {verdict(ratio, 0.9)} |"
        )
    return rows


def _signing_ratio(relay: dict[str, Any]) -> float:
    """The relay's rate signing over not signing: the ratio of the two medians as measured."""
    return float(relay["relay_rate_median"] / relay["relay_unsigned_rate_median"])


def _verifying_ratio(consumer: dict[str, Any]) -> float:
    """The consumer's rate verifying over not verifying, as measured."""
    return float(consumer["consumer_rate"] / consumer["consumer_unverified_rate"])


def _near(ratio: float, target: float) -> str:
    """``ratio`` to three decimals, or four when three would round it onto ``target``: the
    verdict is taken on the ratio of the two medians as measured, never on a rounded one."""
    return f"{ratio:.4f}" if round(ratio, 3) == target else f"{ratio:.3f}"


def _carrying_rounds(rates: list[int] | None) -> str:
    return "" if rates is None else f", carrying only {_listed(rates)}"


# Each part's split: its label, what it does and does not, the JSON keys of its rates (with,
# carrying only, without), of its two ratios, and the modes its CPU figures are named after.
_SPLITS = (
    ("relay", "signing", "not signing",
     ("relay_rate_median", "relay_carrying_rate_median", "relay_unsigned_rate_median"),
     ("signed_over_carrying", "carrying_over_unsigned"), ("signed", "carrying", "unsigned")),
    ("consumer", "verifying", "not verifying",
     ("consumer_rate", "consumer_carrying_rate", "consumer_unverified_rate"),
     ("verified_over_carrying", "carrying_over_unverified"),
     ("verified", "carrying", "unverified")),
)  # fmt: skip


def _carrying_split(relay: dict[str, Any], consumer: dict[str, Any]) -> list[str]:
    """Signing's and verifying's costs split in two: our own work, and the signature header's
    bytes, from a third run of each part that carries the header but does not sign or verify."""
    rows = []
    for result, (part, doing, not_doing, rate_keys, ratio_keys, modes) in zip(
        (relay, consumer), _SPLITS, strict=True
    ):
        if ratio_keys[0] not in result:
            continue
        ours, carrying, plain = (f"{result[key]:,}/s" for key in rate_keys)
        cpu_ours, cpu_carrying, cpu_plain = (result[f"cpu_us_per_event_{m}"] for m in modes)
        rows += [
            f"| {part}: {doing} / carrying only | {ours} / {carrying} "
            f"| {result[ratio_keys[0]]} | {cpu_ours} / {cpu_carrying} µs |",
            f"| {part}: carrying only / {not_doing} | {carrying} / {plain} "
            f"| {result[ratio_keys[1]]} | {cpu_carrying} / {cpu_plain} µs |",
        ]
    if not rows:
        return []
    return [
        "Where the cost goes, from a third run of each part in the same rounds that carries the "
        "signature header without signing or verifying it: the relay gives each record a "
        "stand-in header of the same size (it still gathers the leaves' fields), the consumer "
        "reads the signed records with verification off. The first ratio of each part is what "
        "casesync's trees, signatures and checks cost; the second, what kafka-python and the "
        "broker pay to carry the header's bytes.",
        "",
        "| runs compared | rates | ratio | process CPU per event |",
        "|---|---|---|---|",
        *rows,
        *_raw_carrying(relay, consumer),
        "",
    ]


def _raw_carrying(relay: dict[str, Any], consumer: dict[str, Any]) -> list[str]:
    """kafka-python alone, with and without the signature header (runs that measured it)."""
    rows = []
    if "raw_carrying_over_raw" in relay:
        rows.append(
            f"| raw kafka-python produce, no casesync code: carrying / not "
            f"| {relay['raw_carrying_rate_median']:,}/s / {relay['raw_produce_rate_median']:,}/s "
            f"| {relay['raw_carrying_over_raw']} | — |"
        )
    if "raw_one_byte_over_raw" in relay:
        rows += [
            f"| raw kafka-python produce: a one-byte stand-in header / not "
            f"| {relay['raw_one_byte_rate_median']:,}/s / {relay['raw_produce_rate_median']:,}/s "
            f"| {relay['raw_one_byte_over_raw']} | — |",
            f"| raw kafka-python produce: carrying / a one-byte stand-in header "
            f"| {relay['raw_carrying_rate_median']:,}/s / {relay['raw_one_byte_rate_median']:,}/s "
            f"| {relay['raw_carrying_over_one_byte']} | — |",
        ]
    if "raw_carrying_over_raw" in consumer:
        rows.append(
            f"| raw kafka-python consume and decode, no casesync code (one run each): carrying "
            f"/ not | {consumer['raw_carrying_consume_decode_rate']:,}/s "
            f"/ {consumer['raw_consume_decode_rate']:,}/s | {consumer['raw_carrying_over_raw']} "
            f"| — |"
        )
    return rows


def _signature_figures(
    relay: dict[str, Any], consumer: dict[str, Any], e2e_throughput: dict[str, Any]
) -> list[str]:
    """The section on what signatures cost, side by side in the same run."""
    if "signed_over_unsigned" not in relay or "verified_over_unverified" not in consumer:
        return []
    rounds, cpu = consumer["rounds"], "cpu_us_per_event"
    return [
        "## Signatures",
        "",
        "Every relay batch is signed in trees of up to 256 records (Ed25519 over each tree's "
        "root) and every record verified before triage; the trees and the batch-mate checks "
        f"ran {_hashing_state()}. The same events each way, rounds alternating, medians:",
        "",
        "| part | with signatures | without | ratio | process CPU per event, with / without |",
        "|---|---|---|---|---|",
        f"| relay, signing | {relay['relay_rate_median']:,}/s "
        f"| {relay['relay_unsigned_rate_median']:,}/s "
        f"| {_near(_signing_ratio(relay), 0.9)} "
        f"| {relay[f'{cpu}_signed']} / {relay[f'{cpu}_unsigned']} µs |",
        f"| consumer, verifying | {consumer['consumer_rate']:,}/s "
        f"| {consumer['consumer_unverified_rate']:,}/s "
        f"| {_near(_verifying_ratio(consumer), 0.9)} "
        f"| {consumer[f'{cpu}_verified']} / {consumer[f'{cpu}_unverified']} µs |",
        *_e2e_signature_row(e2e_throughput),
        "",
        *_carrying_split(relay, consumer),
        *_stage_shares(relay, consumer),
        f"- Bytes added per record: **{consumer['signature_bytes_per_record']}** (the "
        "`signature` header: its name, the batch part of about 100 bytes, the record's index "
        "and its path of 32 bytes per level of a tree of 256 records (8 levels), and Kafka's "
        "length bytes).",
        f"- Rounds: relay signing {_listed(relay['rounds']['relay'])}, not signing "
        f"{_listed(relay['rounds']['relay_unsigned'])}"
        f"{_carrying_rounds(relay['rounds'].get('relay_carrying'))}; consumer verifying "
        f"{_listed(rounds['verified'])}, not verifying {_listed(rounds['unverified'])}"
        f"{_carrying_rounds(rounds.get('carrying'))}.",
        "- Each round's own ratio (its two runs back to back, under the machine's load of that "
        "moment): relay "
        f"{_paired(relay['rounds']['relay'], relay['rounds']['relay_unsigned'])}; consumer "
        f"{_paired(rounds['verified'], rounds['unverified'])}. The targets take the ratio of "
        "the medians, whose two medians may come from different rounds.",
        "",
    ]


def _stage_shares(relay: dict[str, Any], consumer: dict[str, Any]) -> list[str]:
    """casesync's own signing and verifying, timed inside their stages in the runs above."""
    if "signing_share" not in relay or "verify_share" not in consumer:
        return []
    return [
        "- Inside casesync's own stages, timed in the same runs as the rates (so no drift of the "
        "machine between two runs enters them): the relay's signer (its trees and signatures) "
        f"took {relay['signing_us_per_event']} µs an event, {relay['signing_cpu_us_per_event']} "
        f"µs of it CPU, **{relay['signing_share']:.1%}** of the relay's time (rounds "
        f"{_percents(relay['signing_share_rounds'])}); the consumer's verify step "
        f"{consumer['verify_us_per_event']} µs an event, {consumer['verify_cpu_us_per_event']} "
        f"µs of it CPU, **{consumer['verify_share']:.1%}** of the consumer's time (rounds "
        f"{_percents(consumer['verify_share_rounds'])}). Without them the parts would gain at "
        "most that share: casesync's own work keeps the relay at "
        f"{1 - relay['signing_share']:.3f} and the consumer at "
        f"{1 - consumer['verify_share']:.3f} of what they would do carrying the header alone.",
    ]


def _percents(shares: list[float]) -> str:
    return ", ".join(f"{share:.1%}" for share in shares)


def _paired(with_: list[int], without: list[int]) -> str:
    """Each round's ratio of two runs, and their median."""
    ratios = [a / b for a, b in zip(with_, without, strict=True)]
    listed = ", ".join(f"{r:.2f}" for r in ratios)
    return f"{listed} (median {statistics.median(ratios):.3f})"


def _hashing_state() -> str:
    """Whether this run's SHA-256 work of signing and verifying was compiled."""
    built = load_settle() is not None and load_signed_tree() is not None
    return "compiled (`casesync/trust/hashing.pyx`)" if built else "in Python (not compiled here)"


def _e2e_signature_row(tp: dict[str, Any]) -> list[str]:
    if "signed_over_unsigned" not in tp:
        return []
    return [f"| end to end (one throughput run each, right after the other) "
            f"| {tp['events_per_s']:,}/s | {tp['unsigned_events_per_s']:,}/s "
            f"| {tp['signed_over_unsigned']} | — |"]  # fmt: skip


def _listed(rates: list[int]) -> str:
    return ", ".join(f"{r:,}" for r in rates) + "/s"


def _consumer_cpu(consumer: dict[str, Any]) -> list[str]:
    """The consumer's CPU per event while it applied (measured in this run), and what follows."""
    cpu = consumer["consumer"].get("cpu_us_per_event")
    if not cpu:
        return []
    cores = consumer["machine"]["cpu_count"]
    offered = round(cores * 1e6 / consumer["consumer_rate"], 1)
    at_this_cost = round(1e6 / cpu["this"])
    goal = round(0.6 * min(consumer["raw_consume_decode_rate"], consumer["bulk_copy_rate"]))
    raw_cost = round(1e6 / consumer["raw_consume_decode_rate"], 1)
    return [
        f"- Consumer: while it applied, per event, the consumer process used {cpu['this']} µs of "
        f"CPU, PostgreSQL {cpu['postgres']} µs and the broker {cpu['broker']} µs; the machine "
        f"was busy {cpu['busy']} µs per event (of which {cpu['kernel']} µs in the kernel) out of "
        f"the {offered} µs that {cores} cores offer at its rate. Its decoding, validating, row "
        "formatting, sequencing and driver calls take turns under one interpreter lock, and at "
        f"this cost one process would need a core to itself for ~{at_this_cost:,} events/s; 0.6 "
        f"of the smaller limit ({goal:,}/s) would need the process under "
        f"{round(1e6 / goal, 1)} µs per event. The raw "
        f"limit's loop takes {raw_cost} µs per event in this run (record parsing in "
        "kafka-python, then decoding, ~4 µs); the consumer adds validation (~1.4 µs), its "
        "history row and, for each case's newest event in the batch, its mirror row (~3 and ~6 "
        "µs, on the polling thread while the previous batch commits), sequencing (~2 µs) and "
        "its part of the writes (new cases' mirror rows COPYed, known cases' upserted, history "
        "COPYed, the cases' heads read). Per-stage figures: single-thread profiles of "
        f"2026-11-27. Even with every core busy all the time, {cpu['busy']} µs per event would "
        f"allow at most ~{round(cores * 1e6 / cpu['busy']):,} events/s.",
    ]


def _secured_vs_plaintext(r: dict[str, dict[str, Any]]) -> list[tuple[str, int, int, float]]:
    """(part, secured rate, plaintext rate, ratio) for each part measured both ways."""
    rate = {
        "relay": lambda x: x["relay_rate_median"],
        "consumer": lambda x: x["consumer_rate"],
        "e2e": lambda x: x["throughput"]["events_per_s"],
    }
    label = {"relay": "relay", "consumer": "consumer", "e2e": "end to end"}
    rows = []
    for part in COMPARED_WITH_PLAINTEXT:
        if f"{part}-plaintext" in r:
            secured, plain = rate[part](r[part]), rate[part](r[f"{part}-plaintext"])
            rows.append((label[part], int(secured), int(plain), round(secured / plain, 2)))
    return rows


def _cluster_targets(cluster: dict[str, Any] | None) -> list[str]:
    """Target rows of the three-node run, when there was one."""
    if not cluster or not cluster.get("throughput"):
        return []
    ratio, p99 = cluster["rate_over_single"], cluster["latency"]["p99_ms"]
    rate = cluster["latency"]["target_rate"]
    return [
        f"| three nodes (RF 3, min ISR 2) vs single node, end-to-end rate | {ratio} | ≥ 0.6 "
        f"| {verdict(ratio, 0.6)} |",
        f"| three nodes: p99 sync latency at {rate:g} events/s | {p99} ms | ≤ 300 ms "
        f"| {verdict(p99, 300, higher_is_better=False)} |",
    ]


def _cluster_figures(cluster: dict[str, Any] | None) -> list[str]:
    """The three-node run's figures, beside the single node's."""
    if not cluster or not cluster.get("throughput"):
        return []
    tp, lat = cluster["throughput"], cluster["latency"]
    return [
        f"- Three-node cluster (RF 3, min ISR 2, acks=all, started for the run): "
        f"{tp['events']:,} events in {tp['seconds']} s = **{tp['events_per_s']:,} events/s** "
        f"({cluster['rate_over_single']} of the single node); at {lat['target_rate']:g} "
        f"events/s p50 {lat['p50_ms']} ms, p90 {lat['p90_ms']} ms, **p99 {lat['p99_ms']} ms**, "
        f"max {lat['max_ms']} ms{_load(lat)}.",
    ]


def _load(lat: dict[str, Any]) -> str:
    """How busy the machine was while a latency run recorded, and where the time went."""
    cores = lat.get("cores_busy")
    text = ""
    if cores:
        text += (
            f"; cores busy meanwhile: {cores['machine']} of the machine's {os.cpu_count()}, "
            f"brokers {cores['brokers']}, PostgreSQL {cores['postgres']}"
        )
    stages = {k: v for k, v in lat.get("stages", {}).items() if k != "events"}
    if stages:
        text += "; by stage (p50 / p99 ms): " + ", ".join(
            f"{stage} {figures['p50_ms']} / {figures['p99_ms']}"
            for stage, figures in stages.items()
        )
    return text


def _spread(rounds: list[float]) -> str:
    return f"{(max(rounds) - min(rounds)) / min(rounds):.0%}"


def _codec_gain(rows: list[dict[str, Any]]) -> str:
    gains = [row["events_per_s"] / row["fastavro_per_s"] for row in rows if "fastavro_per_s" in row]
    return f"{min(gains):.1f} to {max(gains):.1f} times" if gains else "beside"


def run_all() -> dict[str, dict[str, Any]]:
    """Every step; the compared ones again on the plaintext stack right after their own."""
    infra = [sys.executable, "-m", "infra"]
    plaintext = {**os.environ, **PLAINTEXT_STACK}
    subprocess.run([*infra, "up"], cwd=HERE.parent, env=plaintext, check=True)
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, argv in STEPS:
            results[name] = run_step(name, argv)
            if name in COMPARED_WITH_PLAINTEXT:
                results[f"{name}-plaintext"] = run_step(f"{name}-plaintext", argv, PLAINTEXT_STACK)
    finally:
        subprocess.run([*infra, "down"], cwd=HERE.parent, env=plaintext, check=False)
    return results


def main() -> int:
    if "--render-only" in sys.argv[1:]:  # re-render BENCHMARKS.md from the last run's JSON
        names = [n for n, _ in STEPS] + [f"{n}-plaintext" for n in COMPARED_WITH_PLAINTEXT]
        results = {n: json.loads((RESULTS / f"{n}.json").read_text()) for n in names}
    else:
        RESULTS.mkdir(exist_ok=True)
        results = run_all()
    (HERE.parent / "BENCHMARKS.md").write_text(render(results))
    print("[bench] wrote BENCHMARKS.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
