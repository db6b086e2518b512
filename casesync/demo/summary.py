"""What the demo reports, read from each region's own database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from casesync.adapters.postgres import query_rows
from casesync.snapshots import digest_cases


@dataclass(frozen=True, slots=True)
class RegionFigures:
    code: str
    name: str
    emitted: int
    published: int
    applied: int
    dead_lettered: int
    # Records whose signature checked out (applied, or dead-lettered at a later stage), and
    # those refused at verification (tampered, unsigned, wrong or invalid key).
    verified: int
    refused_unverified: int
    latency_p50_ms: float | None
    latency_p99_ms: float | None


def _rows(url: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return query_rows(url, query, params, application_name="casesync-demo")


def region_figures(url: str, code: str, name: str) -> RegionFigures:
    (row,) = _rows(
        url,
        "SELECT (SELECT count(*) FROM case_history),"
        " (SELECT count(*) FROM outbox WHERE published_at IS NOT NULL),"
        " (SELECT count(*) FROM mirror_history), (SELECT count(*) FROM dead_letters),"
        " (SELECT count(*) FROM dead_letters WHERE stage = 'verify'),"
        " (SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP"
        "   (ORDER BY extract(epoch FROM applied_at - occurred_at)) FROM mirror_history)",
    )
    emitted, published, applied, dead, refused, percentiles = row
    p50, p99 = (None, None) if percentiles is None else (percentiles[0], percentiles[1])
    return RegionFigures(
        code, name, emitted, published, applied, dead, applied + dead - refused, refused,
        None if p50 is None else p50 * 1000, None if p99 is None else p99 * 1000,
    )  # fmt: skip


def owned_digest(url: str, partner: str) -> tuple[str, int]:
    """Digest of the region's own cases shared with ``partner``."""
    return digest_cases(
        _rows(
            url,
            "SELECT case_id, version, snapshot FROM cases WHERE %s = ANY(target_regions)",
            (partner,),
        )
    )


def mirror_digest(url: str, source: str) -> tuple[str, int]:
    """Digest of the region's mirror of ``source``'s cases."""
    return digest_cases(
        _rows(
            url,
            "SELECT case_id, version, snapshot FROM mirror_cases WHERE source_region = %s",
            (source,),
        )
    )


def unpublished(url: str) -> int:
    return int(_rows(url, "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0])


def case_steps(url: str, case_id: str) -> list[tuple[str, datetime]]:
    """(event type, occurred_at) of one own case, in version order."""
    return [
        (event_type, at)
        for event_type, at in _rows(
            url,
            "SELECT event_type, occurred_at FROM case_history WHERE case_id = %s ORDER BY version",
            (case_id,),
        )
    ]


def mirrored_version(url: str, source: str, case_id: str) -> int | None:
    """The version of ``source``'s case ``case_id`` in the region's mirror, if it has it."""
    rows = _rows(
        url,
        "SELECT version FROM mirror_cases WHERE source_region = %s AND case_id = %s",
        (source, case_id),
    )
    return int(rows[0][0]) if rows else None


def case_state(url: str, case_id: str) -> tuple[str, int] | None:
    rows = _rows(url, "SELECT state, version FROM cases WHERE case_id = %s", (case_id,))
    return (rows[0][0], rows[0][1]) if rows else None


def table(figures: list[RegionFigures]) -> str:
    """The per-region table as aligned text."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f}"

    lines = [
        f"{'region':<22}{'emitted':>9}{'published':>11}{'verified':>10}{'refused':>9}"
        f"{'applied':>9}{'dead':>6}{'p50 ms':>9}{'p99 ms':>9}"
    ]
    for f in figures:
        lines.append(
            f"{f.code + ' ' + f.name:<22}{f.emitted:>9,}{f.published:>11,}{f.verified:>10,}"
            f"{f.refused_unverified:>9,}{f.applied:>9,}{f.dead_lettered:>6,}{ms(f.latency_p50_ms):>9}{ms(f.latency_p99_ms):>9}"
        )
    return "\n".join(lines)
