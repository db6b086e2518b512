"""The launcher never starts a secured broker on storage formatted without security, and never
puts the admin's password on a command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.errors import FormattedWithoutSecurity
from infra.kafka.launcher import KafkaLauncher


def test_storage_formatted_for_plaintext_is_refused_with_the_remedy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run folder from the plaintext launcher (data, no admin credentials) is one clear error."""
    monkeypatch.setenv("CASESYNC_RUN_DIR", str(tmp_path))
    (tmp_path / "kafka" / "data").mkdir(parents=True)
    (tmp_path / "kafka" / "data" / "meta.properties").write_text("cluster.id=x\n")
    launcher = KafkaLauncher(port=40001, controller_port=40002, secured=True, nodes=1)
    with pytest.raises(FormattedWithoutSecurity, match="make clean"):
        launcher._configure(tmp_path / "libs")


def test_the_secured_configuration_is_private_and_the_format_arguments_go_in_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """server.properties (it holds the broker's own login) is 0600; the storage tool gets its
    arguments, the admin's password among them, from a 0600 file that is gone afterwards."""
    monkeypatch.setenv("CASESYNC_RUN_DIR", str(tmp_path))
    seen: list[list[str]] = []

    def run(command: list[str], **_: object) -> None:
        seen.append(command)
        args_file = Path(command[-1].removeprefix("@"))
        assert args_file.stat().st_mode & 0o077 == 0
        assert "--add-scram" in args_file.read_text()

    monkeypatch.setattr("infra.kafka.launcher.subprocess.run", run)
    launcher = KafkaLauncher(port=40001, controller_port=40002, secured=True, nodes=1)
    config = launcher._configure(tmp_path / "libs")
    password = launcher.access.security.password
    assert password
    assert config.stat().st_mode & 0o077 == 0
    assert "allow.everyone.if.no.acl.found=false" in config.read_text()
    assert len(seen) == 1
    assert not any(password in arg for arg in seen[0])
    assert not (launcher.home / "format.args").exists()
