"""The Prometheus alert rules and scrape config in ``infra/prometheus`` pass promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS = Path(__file__).resolve().parents[3] / "infra" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is missing: install Debian's prometheus package (make setup as root)")
    return subprocess.run(
        [tool, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120, check=False
    )


def test_every_alert_rule_passes_its_promtool_unit_tests() -> None:
    """Each alert fires for the region it names on its condition and not on a healthy region."""
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_rule_has_a_unit_test() -> None:
    """No rule ships untested: each alert name appears in the promtool tests."""
    rules = (PROMETHEUS / "alerts.yml").read_text()
    tests = (PROMETHEUS / "alerts_test.yml").read_text()
    names = [line.split(":", 1)[1].strip() for line in rules.splitlines()
             if line.strip().startswith("- alert:")]  # fmt: skip
    assert names
    assert [n for n in names if f"alertname: {n}" not in tests] == []


def test_the_scrape_config_and_its_rule_files_are_valid() -> None:
    """``prometheus --config.file=infra/prometheus/prometheus.yml`` would start with the rules."""
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
