"""Schema compatibility through the ``avro`` package's checker (fastavro has none).

Used once per new writer fingerprint by the codec, and by the FULL_TRANSITIVE tests. The
checker is several times slower than decoding, which is why its answer is cached per pair.
"""

from __future__ import annotations

from collections.abc import Sequence

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType


def compatibility_problems(reader_json: str, writer_json: str) -> tuple[str, ...]:
    """Why records written with ``writer_json`` cannot be read with ``reader_json``."""
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]
    result = checker.get_compatibility(
        avro.schema.parse(reader_json), avro.schema.parse(writer_json)
    )
    if result.compatibility is SchemaCompatibilityType.compatible:
        return ()
    kinds = sorted(kind.value for kind in result.incompatibilities)
    return (
        f"{'/'.join(kinds)} at {sorted(result.locations)}: {sorted(map(str, result.messages))}",
    )


def full_transitive_problems(versions: Sequence[str]) -> tuple[str, ...]:
    """Problems between every pair of versions, both directions (empty means FULL_TRANSITIVE)."""
    problems: list[str] = []
    for newer_index, newer in enumerate(versions):
        for older_index, older in enumerate(versions[:newer_index]):
            pair = f"v{older_index + 1}/v{newer_index + 1}"
            problems += [f"{pair} old reads new: {p}" for p in compatibility_problems(older, newer)]
            problems += [f"{pair} new reads old: {p}" for p in compatibility_problems(newer, older)]
    return tuple(problems)
