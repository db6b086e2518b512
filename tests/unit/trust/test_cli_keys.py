"""casesync keys: a key, a root, a manifest built, signed, verified and refused when edited."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from casesync.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_keys_and_manifest_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """keys new writes a 0600 key and prints only its public entry; a manifest built from two
    entries, signed by a new root, verifies against CASESYNC_TRUST_ROOT; edited, it exits 2."""
    monkeypatch.setenv("CASESYNC_SIGNING_KEY_DIR", str(tmp_path / "keys"))
    code, out, _ = run(["keys", "new-root", "--out", str(tmp_path / "root.pem")], capsys)
    assert code == 0
    monkeypatch.setenv("CASESYNC_TRUST_ROOT", json.loads(out)["public_key_file"])
    for region in ("320623", "330483"):
        code, out, _ = run(["keys", "new", "--region", region], capsys)
        assert code == 0
        entry = json.loads(out)
        assert "PRIVATE" not in out
        (tmp_path / f"{region}.json").write_text(out)
        key_file = tmp_path / "keys" / f"{region}-{entry['key_id']}.pem"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    manifest = str(tmp_path / "manifest.json")
    adds = ["--add", str(tmp_path / "320623.json"), "--add", str(tmp_path / "330483.json")]
    assert run(["keys", "manifest", "build", *adds, "--out", manifest], capsys)[0] == 0
    root_key = str(tmp_path / "root.pem")
    assert run(["keys", "manifest", "sign", manifest, "--root-key", root_key], capsys)[0] == 0
    code, out, _ = run(["keys", "manifest", "verify", manifest], capsys)
    assert (code, out.split(",")[0]) == (0, "ok: manifest version 1")
    code, out, _ = run(["keys", "manifest", "show", manifest], capsys)
    assert "320623" in out
    assert "valid now" in out

    edited = json.loads(Path(manifest).read_text())
    edited["version"] = 7
    Path(manifest).write_text(json.dumps(edited))
    code, _, err = run(["keys", "manifest", "verify", manifest], capsys)
    assert code == 2
    assert "not signed by the pinned root" in err


def test_an_unknown_suite_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Asking for a suite that does not exist exits 2 with one line saying so."""
    code, _, err = run(["keys", "new", "--region", "320623", "--suite", "rsa"], capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "unknown suite" in err


def test_keys_new_makes_an_sm2_key_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--suite sm2-sm3 writes a 0600 SM2 key and prints its entry: suite sm2-sm3, 65-byte key."""
    monkeypatch.setenv("CASESYNC_SIGNING_KEY_DIR", str(tmp_path / "keys"))
    code, out, _ = run(["keys", "new", "--region", "320623", "--suite", "sm2-sm3"], capsys)
    assert code == 0
    entry = json.loads(out)
    assert entry["suite"] == "sm2-sm3"
    assert len(base64.b64decode(entry["public_key"])) == 65
    key_file = tmp_path / "keys" / f"320623-{entry['key_id']}.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
