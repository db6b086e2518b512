"""``ops status`` for one region: sample the broker and the database twice, then judge.

Steps:
  1. plan the region's inbox (as its consumer would, no I/O);
  2. first sample: each inbox partition's log bounds and stored position;
  3. wait ``window`` seconds; second sample;
  4. judge each partition (``status.judge_partition``); for those with lag, read the oldest
     unapplied record's timestamp: the lag in seconds;
  5. outbox backlog, dead letters by stage and class, overdue cases, partner events applied
     lately (rate and sync latency by source), the region's recent multi-region workflows.
A service that cannot be reached makes the region ERR, and the report says which; with the
broker away, the database's part (outbox, dead letters, overdue cases) is still reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from casesync.adapters.postgres import connect, transaction
from casesync.adapters.trust_anchor import trust_anchor
from casesync.domain.holidays import shipped_calendar
from casesync.domain.workdays import china_date
from casesync.errors import AccessRefused, CasesyncError, Unreachable
from casesync.ops import status_queries as q
from casesync.ops.errors import UnknownTopic
from casesync.ops.status import (
    Judgement,
    Sample,
    Thresholds,
    Verdict,
    judge_manifest,
    judge_outbox,
    judge_partition,
)
from casesync.ops.status import lag_seconds as age_of
from casesync.ops.topic_reader import Bounds, TopicReader
from casesync.settings import Settings
from consumers.compose import ConsumerOptions, plan_consumer
from producers.outbox_store import read_relay_health

TP = tuple[str, int]


@dataclass(frozen=True, slots=True)
class StatusOptions:
    """What the command line chooses."""

    window_s: float = 2.0
    thresholds: Thresholds = field(default_factory=Thresholds)
    overdue_listed: int = 20
    applied_window_s: float = 60.0  # applied/s and sync latency over this much recent time
    workflows_since_s: float = 3600.0  # finished workflows stay listed this long
    workflows_listed: int = 10


def check_region(
    settings: Settings,
    region: str,
    options: StatusOptions = StatusOptions(),
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    reader: TopicReader | None = None,
) -> dict[str, Any]:
    """The status report of ``region`` as plain JSON values. A caller that checks again and
    again (the console) passes its own ``reader``, kept open between checks."""
    report: dict[str, Any] = {"region": region, "checked_at": now().isoformat(), "errors": []}
    plan = plan_consumer(settings, ConsumerOptions(region=region))  # 1
    url = settings.region_database_url(region)
    own_reader = reader is None
    try:
        conn = connect(url, application_name="casesync-ops")
    except Unreachable as e:
        report["errors"].append(str(e))
        report["verdict"] = Verdict.ERR.name
        return report
    reader = TopicReader(settings.kafka) if reader is None else reader
    try:
        try:
            first = _sample(conn, reader, plan.topics)  # 2
            time.sleep(options.window_s)  # 3
            second = _sample(conn, reader, plan.topics)
            report["partitions"] = _partitions(reader, first, second, options, now)  # 4
            report["missing_topics"] = sorted(set(plan.topics) - {t for t, _ in second[0]})
        except AccessRefused:
            raise  # this process's credentials, not the region's state: one line, exit 2
        except CasesyncError as e:
            # The broker away is when the outbox matters most: go on with the database.
            report["errors"].append(str(e))
        with transaction(conn) as cur:  # 5
            backlog = q.outbox_backlog(cur)
            outbox = judge_outbox(backlog.unpublished, backlog.oldest_age_s,
                                  read_relay_health(cur), options.thresholds)  # fmt: skip
            report["outbox"] = {
                "backlog": backlog.unpublished,
                "oldest_age_seconds": backlog.oldest_age_s,
                # recorded through SQL, refused when encoded: casesync_api.refused_changes
                "refused": backlog.refused,
                "verdict": outbox.verdict.name,
                "reason": outbox.reason,
            }
            report["dead_letters"] = _dead_letters(cur)
            report["overdue"] = _overdue(cur, now(), options.overdue_listed)
            report["applied"] = _applied(cur, options.applied_window_s)
            report["workflows"] = q.recent_workflows(
                cur, options.workflows_since_s, options.workflows_listed
            )
    except AccessRefused:
        raise
    except CasesyncError as e:
        report["errors"].append(str(e))
    finally:
        conn.close()
        if own_reader:
            reader.close()
    if settings.signing:
        report["manifest"] = _manifest(settings, now())
    verdicts = [Verdict[p["verdict"]] for p in report.get("partitions", ())]
    if "manifest" in report:
        verdicts.append(Verdict[report["manifest"]["verdict"]])
    if "outbox" in report:
        verdicts.append(Verdict[report["outbox"]["verdict"]])
    if report["errors"]:
        verdicts.append(Verdict.ERR)
    report["verdict"] = max(verdicts, default=Verdict.OK).name
    return report


def _manifest(settings: Settings, moment: datetime) -> dict[str, Any]:
    """The manifest this region's processes would trust now: version, expiry, verdict."""
    try:
        anchor = trust_anchor(settings)
    except CasesyncError as e:
        return {"version": None, "expires_at": None, "verdict": "ERR", "reason": str(e)}
    anchor.refresh()
    held = anchor.holder.held
    refusals = [f"{source}: {why}" for source, why in sorted(anchor.refusals.items())]
    judged = judge_manifest(held, moment, refusals)
    return {
        "version": None if held is None else held.version,
        "expires_at": None if held is None else held.expires_at.isoformat(),
        "verdict": judged.verdict.name,
        "reason": judged.reason,
    }


_Snapshot = tuple[dict[TP, Bounds | None], dict[TP, q.StoredPosition]]


def _sample(conn: Any, reader: TopicReader, topics: tuple[str, ...]) -> _Snapshot:
    # Positions before bounds: a running consumer's position read after the log end could lie
    # beyond it (records written and applied in between), a false "records lost" ERR.
    with transaction(conn) as cur:
        stored = q.positions(cur, topics)
    bounds: dict[TP, Bounds | None] = {}
    for topic in topics:
        try:
            b = reader.bounds(topic)
        except UnknownTopic:
            continue  # the partner never published: nothing is owed
        for p in b.end:
            bounds[(topic, p)] = Bounds({p: b.start[p]}, {p: b.end[p]})
    return bounds, stored


def _partitions(
    reader: TopicReader,
    first: _Snapshot,
    second: _Snapshot,
    options: StatusOptions,
    now: Callable[[], datetime],
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    # A partition never consumed has no move of its own: the consumer's last move anywhere says
    # whether it runs at all (None: it never moved anything).
    any_move = min((s.moved_ago_s for s in second[1].values()), default=None)
    for tp in sorted(second[0]):
        a, b = _as_sample(tp, first), _as_sample(tp, second)
        stored = second[1].get(tp)
        moved_ago = any_move if stored is None else stored.moved_ago_s
        judged: Judgement = judge_partition(a, b, moved_ago, options.thresholds)
        rows.append({
            "topic": tp[0], "partition": tp[1], "log_start": b.log_start,
            "end_offset": b.end_offset, "position": b.position, "lag": b.lag,
            "lag_seconds": 0.0, "verdict": judged.verdict.name, "reason": judged.reason,
        })  # fmt: skip
    now_ms = int(now().timestamp() * 1000)
    for row in rows:
        if row["lag"] > 0 and row["verdict"] != Verdict.ERR.name:
            oldest = max(row["position"] or 0, row["log_start"])
            record = next(reader.read(row["topic"], {row["partition"]: oldest},
                                      {row["partition"]: oldest + 1}), None)  # fmt: skip
            row["lag_seconds"] = round(age_of(None if record is None else record.timestamp_ms,
                                              now_ms), 3)  # fmt: skip
    return rows


def _as_sample(tp: TP, snapshot: _Snapshot) -> Sample:
    bounds = snapshot[0].get(tp)
    stored = snapshot[1].get(tp)
    start = 0 if bounds is None else bounds.start[tp[1]]
    end = 0 if bounds is None else bounds.end[tp[1]]
    return Sample(start, end, None if stored is None else stored.next_offset)


def _dead_letters(cur: Any) -> dict[str, Any]:
    cur.execute("SELECT count(*), count(*) FILTER (WHERE published_at IS NULL) FROM dead_letters")
    total, unpublished = cur.fetchone()
    by_class = q.dead_letters_by_class(cur)
    return {
        "total": int(total),
        "unpublished": int(unpublished),
        "open": sum(r["count"] for r in by_class),
        "by_class": by_class,
    }


def _overdue(cur: Any, moment: datetime, listed: int) -> dict[str, Any]:
    today = china_date(moment)
    cases = q.overdue_cases(cur, today, shipped_calendar())
    return {
        "today": today.isoformat(),
        "owned": sum(1 for c in cases if c.side == "owned"),
        "mirror": sum(1 for c in cases if c.side == "mirror"),
        "cases": [
            {"case_id": c.case_id, "side": c.side, "state": c.state, "item_code": c.item_code,
             "promised_deadline": c.promised_deadline.isoformat(),
             "working_days_overdue": c.working_days_overdue}
            for c in cases[:listed]
        ],
    }  # fmt: skip


def _applied(cur: Any, window_s: float) -> dict[str, Any]:
    rows = q.applied_recently(cur, window_s)
    overall = next((r for r in rows if r["source"] is None), None)
    return {
        "window_seconds": window_s,
        "per_second": 0.0 if overall is None else round(overall["count"] / window_s, 3),
        "latency_p50_s": None if overall is None else overall["latency_p50_s"],
        "latency_p99_s": None if overall is None else overall["latency_p99_s"],
        "by_source": [
            {**r, "per_second": round(r["count"] / window_s, 3)}
            for r in rows if r["source"] is not None
        ],
    }  # fmt: skip
