"""Per-record cost of batch signing and verification on one core, and the header bytes added.

    .venv/bin/python benchmarks/bench_trust.py [--records 20000] [--repeat 3] [--value-bytes 430]
        [--suite ed25519 --suite sm2-sm3]

Per suite (default: every suite usable here), first the primitives: one signature, one
verification, and the suite's hash over one record's leaf. Then, for batches of 1, 100, 1,000
and 5,000 records (about ``--records`` records in all per round), the median
over ``--repeat`` rounds of: ``sign_batch`` per record; verification per record by one
``Verifier`` that sees each batch's records in order (the consumer's case: one signature check per
batch); and verification of a record alone by a verifier that has seen nothing else of its batch
(the worst case: every record checks a signature). Bytes per record count each signature
header's name and value plus Kafka's length varints.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from _support import header_bytes

from casesync.trust.holder import ManifestHolder
from casesync.trust.keys import RootPublicKey, SigningKey, new_signing_key
from casesync.trust.manifest import build_manifest, sign_manifest
from casesync.trust.signing import sign_batch
from casesync.trust.suites import SUITES, suite_named
from casesync.trust.tree import RecordFacts, leaf_bytes
from casesync.trust.verify import Verifier

BATCH_SIZES = (1, 100, 1000, 5000)
NOW = datetime.now(UTC)


def facts(n: int, value_bytes: int, first: int = 0) -> list[RecordFacts]:
    """``n`` distinct records from ``first`` on (distinct batches never share a signature)."""
    value = bytes(value_bytes)
    return [
        RecordFacts("320623", "330483", f"case-{i}".encode(), value + i.to_bytes(4, "big"),
                    bytes(8), f"evt-{i:08d}", "CaseSubmitted")
        for i in range(first, first + n)
    ]  # fmt: skip


def timed(work: Callable[[], object], records: int, repeat: int) -> float:
    """Median µs per record of ``work`` over ``repeat`` rounds."""
    rounds = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        rounds.append((time.perf_counter() - started) / records * 1e6)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--value-bytes", type=int, default=430)
    parser.add_argument("--suite", action="append", choices=sorted(SUITES), help="(repeatable)")
    args = parser.parse_args()
    for suite in args.suite or list(SUITES):
        print(f"suite {suite}")
        print(primitives(suite, args.value_bytes))
        table(suite, args)


def primitives(suite: str, value_bytes: int, count: int = 2000) -> str:
    """Median µs of one signature, one verification and one leaf hash (``count`` each)."""
    key = new_signing_key("320623", suite)
    scheme = suite_named(suite)
    public = scheme.load_public(key.public_key)
    message = bytes(range(80))  # a statement's size: tag, suite, key id, time, root
    signature = key.sign(message)
    leaf = leaf_bytes(facts(1, value_bytes)[0])
    sign_us = timed(lambda: [key.sign(message) for _ in range(count)], count, 3)
    verify_us = timed(
        lambda: [scheme.verify(public, signature, message) for _ in range(count)], count, 3
    )
    hash_us = timed(lambda: [scheme.new_hash(leaf).digest() for _ in range(count * 10)],
                    count * 10, 3)  # fmt: skip
    return (f"  sign {sign_us:.1f} µs, verify {verify_us:.1f} µs a signature; "
            f"leaf hash {hash_us:.2f} µs a record ({len(leaf)} bytes)")  # fmt: skip


def table(suite: str, args: argparse.Namespace) -> None:
    """The per-record costs of batches of each size, signed with a key of ``suite``."""
    key, root = new_signing_key("320623", suite), new_signing_key("root")
    manifest = build_manifest(
        1, NOW - timedelta(days=1), NOW + timedelta(days=30),
        [key.entry(NOW - timedelta(days=1), NOW + timedelta(days=30))],
    )  # fmt: skip
    holder = ManifestHolder(RootPublicKey(root.suite, root.public_key))
    holder.offer(sign_manifest(manifest, root), NOW)

    print(f"{'batch':>6} {'sign µs/rec':>12} {'verify µs/rec':>14} {'received µs/rec':>16} "
          f"{'alone µs/rec':>13} {'bytes/rec':>10}")  # fmt: skip
    for size in BATCH_SIZES:
        print(row(size, args.records, args.repeat, args.value_bytes, key, holder))


def row(size: int, records: int, repeat: int, value_bytes: int, key: SigningKey,
        holder: ManifestHolder) -> str:  # fmt: skip
    """One table row: the costs for batches of ``size``."""
    batches = max(1, records // size)
    records = batches * size
    groups = [facts(size, value_bytes, first=b * size) for b in range(batches)]
    signed: list[list[tuple[tuple[str, bytes], ...]]] = []

    def sign() -> None:
        signed.clear()
        signed.extend([(s,) for s in sign_batch(g, key, NOW)] for g in groups)

    def verify() -> None:
        verifier = Verifier(holder)
        for group, headers in zip(groups, signed, strict=True):
            for one, h in zip(group, headers, strict=True):
                verifier.verify(one, h, NOW)

    def received() -> None:
        verifier = Verifier(holder)
        for group, headers in zip(groups, signed, strict=True):
            for one, h in zip(group, headers, strict=True):
                relay_headers = (
                    ("event_id", one.event_id.encode()), ("event_type", one.event_type.encode()),
                    ("fingerprint", one.fingerprint.hex().encode()),
                    ("source_region", one.source_region.encode()), *h,
                )  # fmt: skip
                verifier.verify_received(one.key, one.value, relay_headers, one.target_region, NOW)

    alone_count = min(records, 500)

    def alone() -> None:
        for i in range(alone_count):
            group, headers = groups[i % batches], signed[i % batches]
            Verifier(holder).verify(group[i % size], headers[i % size], NOW)

    sign_us = timed(sign, records, repeat)
    verify_us = timed(verify, records, repeat)
    received_us = timed(received, records, repeat)
    alone_us = timed(alone, alone_count, repeat)
    mean_bytes = statistics.mean(header_bytes(h) for h in signed[0])
    return (f"{size:>6} {sign_us:>12.1f} {verify_us:>14.1f} {received_us:>16.1f} "
            f"{alone_us:>13.1f} {mean_bytes:>10.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
