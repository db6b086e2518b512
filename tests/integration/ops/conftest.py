"""Helpers of the ops integration tests: housing-fund cases, and the CLI run in-process."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from casesync.cli import main
from casesync.domain.events import Applicant
from casesync.domain.vocabulary import ApplicantKind, EventType, HandlingMode
from casesync.testing_regions import TestRegion
from producers.changes import CaseChange

RUDONG, TONGXIANG = "320623", "330483"
HOUSING_WITHDRAWAL = "002023002000"  # 购房提取住房公积金, shared by Rudong and Tongxiang
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
LIFE = (
    EventType.CASE_SUBMITTED, EventType.CASE_ACCEPTED, EventType.REVIEW_STARTED,
    EventType.CASE_APPROVED, EventType.RESULT_DELIVERED,
)  # fmt: skip


def housing_cases(first: int, count: int, steps: int = len(LIFE)) -> list[CaseChange]:
    """``count`` Rudong housing-fund withdrawals shared with Tongxiang, each through ``steps``
    lifecycle events, interleaved across cases."""
    return [
        CaseChange(
            case_id=f"{RUDONG}-ops-{n:05d}", event_type=LIFE[step], expected_version=step,
            occurred_at=START + timedelta(seconds=n, minutes=step),
            item_code=HOUSING_WITHDRAWAL if step == 0 else None,
            handling_mode=HandlingMode.FULLY_ONLINE if step == 0 else None,
            applicant=Applicant(ApplicantKind.PERSON, f"申请人{n}",
                                id_number=f"3206231990{n:08d}") if step == 0 else None,
            target_regions=(TONGXIANG,) if step == 0 else None,
        )
        for step in range(steps)
        for n in range(first, first + count)
    ]  # fmt: skip


Cli = Callable[..., tuple[int, str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli(region, *argv)``: run ``casesync`` in-process with that region's settings; returns
    (exit code, stdout)."""

    def run(region: TestRegion, *argv: str) -> tuple[int, str]:
        for name, value in region.settings.kafka.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CASESYNC_DATABASE_URL", region.url)
        monkeypatch.setenv("CASESYNC_TOPIC_PREFIX", region.settings.topic_prefix)
        capsys.readouterr()
        code = main(["--log-level", "WARNING", *argv])
        return code, capsys.readouterr().out

    return run


def json_lines(text: str) -> list[dict[str, Any]]:
    """Each non-empty line of ``text`` as JSON."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
