"""Encode/decode rate of the case event codec on one core.

    .venv/bin/python benchmarks/bench_codec.py [--events 50000] [--repeat 5] [--json FILE]

Each row runs over the same realistic events (full snapshot, 1-4 materials, Chinese names,
joint cases on a workflow step) ``--repeat`` times and reports the median rate, once for the codec
and once for the same work done by fastavro alone (the codec's previous path, and its reference),
in the same run. The last row is bare fastavro on a flat 12-string record, to tell the machine's
speed apart from our event's size.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import fastavro

from casesync.contract.codec import HEADER_SIZE, case_event_codec
from casesync.contract.fastpath import decoder_for
from casesync.contract.mapping import CASE_EVENT_BINDING, event_to_record, record_to_event
from casesync.contract.native import is_compiled
from casesync.contract.schemas import RegisteredSchema, load_versions
from casesync.contract.wire import MARKER
from casesync.domain.events import Applicant, CaseEvent, CaseSnapshot, Material, WorkflowStep
from casesync.domain.vocabulary import (
    ApplicantKind,
    CaseState,
    EventType,
    HandlingMode,
    MaterialStatus,
)

REGIONS = ("320500", "640100", "320623", "330483", "320300", "371300", "320707", "371103")
NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "如东某某化纤有限公司", "苏州某某科技有限公司")
MATERIALS = ("申请书", "身份证明", "营业执照", "联系函", "变更信息表", "合伙协议", "经营场所证明")


def realistic_event(rng: random.Random) -> CaseEvent:
    """One event as regions really send them: ids are UUIDs, most fields filled."""
    mode = rng.choice(list(HandlingMode))
    owner, partner = rng.sample(REGIONS, 2)
    company = rng.random() < 0.3
    submitted = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(30_000_000))
    step = None
    if mode is HandlingMode.JOINT:
        step = WorkflowStep(
            "medical-insurance-transfer",
            rng.randint(1, 4),
            "转出地办理转出",
            partner,
            (submitted + timedelta(days=14)).date(),
        )
    return CaseEvent(
        event_id=str(uuid.UUID(int=rng.getrandbits(128))),
        event_type=rng.choice(list(EventType)),
        case_id=f"{owner}-2024-{rng.randrange(10**6):06d}",
        case_version=rng.randint(1, 12),
        source_region=owner,
        occurred_at=submitted + timedelta(microseconds=rng.randrange(10**12)),
        correlation_id=str(uuid.UUID(int=rng.getrandbits(128))),
        causation_id=str(uuid.UUID(int=rng.getrandbits(128))) if rng.random() < 0.8 else None,
        target_regions=(partner,),
        snapshot=CaseSnapshot(
            state=rng.choice(list(CaseState)),
            item_code=f"{owner[:2]}{rng.randrange(10**10):010d}",
            handling_mode=mode,
            owner_region=owner,
            step_owner=partner,
            applicant=Applicant(
                ApplicantKind.COMPANY if company else ApplicantKind.PERSON,
                rng.choice(NAMES),
                None if company else f"{rng.randrange(10**17):017d}X",
                f"91{owner}{rng.randrange(10**10):010d}" if company else None,
            ),
            materials=tuple(
                Material(
                    f"M{i:03d}",
                    rng.choice(MATERIALS),
                    rng.choice(list(MaterialStatus)),
                    f"{rng.getrandbits(256):064x}" if rng.random() < 0.7 else None,
                )
                for i in range(rng.randint(1, 4))
            ),
            submitted_at=submitted,
            promised_deadline=submitted.date() + timedelta(days=28),
            workflow_step=step,
        ),
    )


def v2_schema() -> RegisteredSchema:
    return load_versions()[-1]


def median_rate(action: Callable[[Any], object], inputs: Sequence[Any], repeat: int) -> float:
    """Median items/s of ``action`` over ``inputs``, ``repeat`` runs."""
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for item in inputs:
            action(item)
        rates.append(len(inputs) / (time.perf_counter() - start))
    return statistics.median(rates)


def flat_reference(count: int) -> tuple[Callable[[Any], object], list[dict[str, str]]]:
    schema = fastavro.parse_schema(
        {
            "type": "record",
            "name": "Flat",
            "fields": [{"name": f"f{i}", "type": "string"} for i in range(12)],
        }
    )
    records = [{f"f{i}": f"value-{n}-{i}" for i in range(12)} for n in range(count)]
    return (lambda record: fastavro.schemaless_writer(io.BytesIO(), schema, record)), records


def fastavro_writer(schema: RegisteredSchema) -> Callable[[Any], bytes]:
    """The codec's work done by fastavro alone: header, then schemaless body."""

    def write(record: Any) -> bytes:
        buffer = io.BytesIO()
        buffer.write(MARKER + schema.fingerprint)
        fastavro.schemaless_writer(buffer, schema.parsed, record)
        return buffer.getvalue()

    return write


def fastavro_reader(writer: RegisteredSchema, reader: RegisteredSchema) -> Callable[[bytes], Any]:
    resolved = None if writer is reader else reader.parsed

    def read(data: bytes) -> Any:
        buffer = io.BytesIO(data)
        buffer.seek(HEADER_SIZE)
        return fastavro.schemaless_reader(buffer, writer.parsed, resolved)

    return read


Action = Callable[[Any], object]


def run(count: int, repeat: int) -> list[dict[str, Any]]:
    rng = random.Random(20210325)  # the Suzhou–Yinchuan agreement date, for a fixed sample
    events = [realistic_event(rng) for _ in range(count)]
    latest, v1_writer = case_event_codec(), case_event_codec(writer_version=1)
    v1, v2 = load_versions()
    records = [event_to_record(e) for e in events]
    latest_bytes = [latest.encode(e) for e in events]
    v1_bytes = [v1_writer.encode(e) for e in events]
    write, read, resolve = fastavro_writer(v2), fastavro_reader(v2, v2), fastavro_reader(v1, v2)
    flat_write, flat_records = flat_reference(count)
    rows: list[tuple[str, Action, Action | None, Sequence[Any]]] = [
        ("encode record (dict)", latest.records.encode_record, write, records),
        ("decode record (dict)", latest.records.decode_record, read, latest_bytes),
        ("encode CaseEvent", latest.encode, lambda e: write(event_to_record(e)), events),
        ("decode CaseEvent", latest.decode, lambda b: record_to_event(read(b)), latest_bytes),
        ("decode record v1->v2", latest.records.decode_record, resolve, v1_bytes),
        (
            "decode CaseEvent v1->v2",
            latest.decode,
            lambda b: record_to_event(resolve(b)),
            v1_bytes,
        ),
        ("ref: fastavro flat 12 str", flat_write, None, flat_records),
    ]
    results = []
    for name, action, reference, inputs in rows:
        row: dict[str, Any] = {
            "case": name,
            "events_per_s": round(median_rate(action, inputs, repeat)),
        }
        if reference is not None:
            row["fastavro_per_s"] = round(median_rate(reference, inputs, repeat))
        results.append(row)
    mean_bytes = round(statistics.mean(map(len, latest_bytes)))
    return [*results, {"case": "mean message bytes", "value": mean_bytes}]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    results = run(args.events, args.repeat)
    print(f"{'case':26} {'events/s':>10} {'fastavro':>10} {'speed-up':>9}", end="")
    print(f"   ({args.events} events, median of {args.repeat})")
    for row in results:
        value = row.get("events_per_s", row.get("value"))
        reference = row.get("fastavro_per_s")
        line = f"{row['case']:26} {value:>10,}"
        if reference:
            line += f" {reference:>10,} {value / reference:>8.1f}x"
        print(line)
    if args.json:
        meta = {
            "events": args.events,
            "repeat": args.repeat,
            "python": platform.python_version(),
            "fastavro": fastavro.__version__,
            "machine": platform.machine(),
            # Whether the compiled (Cython) codec ran, or its pure-Python fallback.
            "compiled": is_compiled(decoder_for(v2_schema(), v2_schema(), CASE_EVENT_BINDING)),
        }
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"meta": meta, "results": results}, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
