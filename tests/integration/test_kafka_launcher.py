"""The Kafka launcher formats, starts and stops a real broker, whatever its random cluster id."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.kafka import launcher as kafka_launcher
from infra.paths import free_ports

pytestmark = pytest.mark.integration


def test_a_cluster_id_beginning_with_a_dash_still_formats_and_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An id such as "-O8L9..." (one id in 64) is not taken for an option by the storage tool."""
    monkeypatch.setenv("CASESYNC_RUN_DIR", str(tmp_path))
    dashed = "-" + kafka_launcher.new_cluster_id()[1:]
    monkeypatch.setattr(kafka_launcher, "new_cluster_id", lambda: dashed)
    first = free_ports(2)
    broker = kafka_launcher.KafkaLauncher(port=first, controller_port=first + 1, heap="256m")
    try:
        assert broker.start(timeout=90.0) is True
        meta = (broker.home / "data" / "meta.properties").read_text()
        assert f"cluster.id={dashed}" in meta
        assert kafka_launcher.broker_answers(broker.access)
    finally:
        broker.stop()
    assert broker.running_pid() is None
