"""The manifest's part of ``ops status``: ERR before verification would stop, WARN a week ahead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from casesync.ops.status import Verdict, judge_manifest
from casesync.trust.manifest import build_manifest

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _expiring_in(left: timedelta):  # type: ignore[no-untyped-def]
    return build_manifest(4, NOW - timedelta(days=30), NOW + left, [])


def test_no_manifest_or_an_expired_one_is_err() -> None:
    """Without a manifest, or with one past its expiry, nothing verifies: ERR."""
    assert judge_manifest(None, NOW).verdict is Verdict.ERR
    assert judge_manifest(_expiring_in(-timedelta(hours=1)), NOW).verdict is Verdict.ERR


def test_expiry_within_a_day_is_err_within_a_week_warn_else_ok() -> None:
    """Expiring within a day is ERR, within seven days WARN, later OK; the version is named."""
    assert judge_manifest(_expiring_in(timedelta(hours=12)), NOW).verdict is Verdict.ERR
    warn = judge_manifest(_expiring_in(timedelta(days=3)), NOW)
    assert warn.verdict is Verdict.WARN
    assert "version 4" in warn.reason
    assert judge_manifest(_expiring_in(timedelta(days=20)), NOW).verdict is Verdict.OK


def test_with_none_in_force_the_reason_names_why_the_manifests_found_were_refused() -> None:
    """No manifest in force: ERR, and the reason carries each refusal, so an operator reads
    that the manifest expired (or was badly signed), not only that none is valid."""
    judged = judge_manifest(None, NOW, ["file: manifest version 8 expired at 2026-03-01"])
    assert judged.verdict is Verdict.ERR
    assert judged.reason == (
        "no valid manifest: nothing can be verified "
        "(file: manifest version 8 expired at 2026-03-01)"
    )
    assert judge_manifest(None, NOW).reason == "no valid manifest: nothing can be verified"
