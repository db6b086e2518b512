"""The federation as the console shows it, from ``ops status`` reports: pure.

A region's card condenses its report (inbox lag in records and seconds with the worst partition
verdict, outbox, dead letters by stage and class, overdue cases); a flow is a pair of watched
regions with a regional agreement in force, or with events seen between them (national-list
items go to every region), with events/s each way and the worst verdict of its two ends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from casesync.domain.catalogue import Catalogue
from casesync.ops.status import Verdict

Report = Mapping[str, Any]
Place = Callable[[str], "tuple[float, float] | None"]


def region_card(report: Report, name: str, place: tuple[float, float] | None) -> dict[str, Any]:
    """One region's figures for its card and its point on the map."""
    partitions = report.get("partitions", [])
    consumption = max((Verdict[p["verdict"]] for p in partitions), default=Verdict.OK)
    if report.get("errors"):
        consumption = Verdict.ERR
    applied = report.get("applied", {})
    return {
        "code": report["region"],
        "name": name,
        "lon": None if place is None else place[0],
        "lat": None if place is None else place[1],
        "verdict": report.get("verdict", Verdict.ERR.name),
        "checked_at": report.get("checked_at"),
        "errors": list(report.get("errors", [])),
        "inbox": {
            "verdict": consumption.name,
            "lag": sum(p["lag"] for p in partitions),
            "lag_seconds": max((p["lag_seconds"] for p in partitions), default=0.0),
            "reasons": sorted({p["reason"] for p in partitions if p["verdict"] != "OK"}),
        },
        "outbox": report.get("outbox"),
        "dead_letters": report.get("dead_letters"),
        "overdue": report.get("overdue"),
        "applied": {
            "per_second": applied.get("per_second", 0.0),
            "latency_p50_s": applied.get("latency_p50_s"),
            "latency_p99_s": applied.get("latency_p99_s"),
        },
        "workflows": list(report.get("workflows", [])),
    }


def flows(reports: Mapping[str, Report], catalogue: Catalogue, on: date) -> list[dict[str, Any]]:
    """Each pair of watched regions that exchange events, with events/s each way."""
    codes = sorted(reports)
    rates = {(source["source"], code): float(source["per_second"])
             for code, report in reports.items()
             for source in report.get("applied", {}).get("by_source", [])}  # fmt: skip
    pairs = []
    for i, a in enumerate(codes):
        partners = catalogue.partners_of(a, on)
        for b in codes[i + 1 :]:
            agreed = b in partners
            if not agreed and (a, b) not in rates and (b, a) not in rates:
                continue
            verdict = max(Verdict[reports[a].get("verdict", "ERR")],
                          Verdict[reports[b].get("verdict", "ERR")])  # fmt: skip
            pairs.append({
                "a": a, "b": b, "agreement": agreed, "verdict": verdict.name,
                "a_to_b_per_second": rates.get((a, b), 0.0),
                "b_to_a_per_second": rates.get((b, a), 0.0),
            })  # fmt: skip
    return pairs


def overall(cards: Sequence[Mapping[str, Any]]) -> str:
    """The worst verdict of the watched regions."""
    return max((Verdict[c["verdict"]] for c in cards), default=Verdict.OK).name
