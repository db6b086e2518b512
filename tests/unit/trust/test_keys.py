"""Signing keys: stable ids, private 0600 PKCS#8 files, no key bytes in reprs, a pinned root."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from casesync.trust.errors import KeyFileError
from casesync.trust.keys import (
    choose_signing_key,
    load_signing_key,
    new_signing_key,
    parse_root_public,
    region_key_files,
    write_signing_key,
)

from .conftest import DAY, NOW, RUDONG


def test_a_key_file_is_private_pkcs8_and_loads_back_as_the_same_key(tmp_path: Path) -> None:
    """The file is 0600 PKCS#8 PEM named region-keyid; loaded back it has the same id."""
    key = new_signing_key(RUDONG)
    path = write_signing_key(key, tmp_path / "keys")
    assert path.name == f"{RUDONG}-{key.key_id}.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert load_signing_key(path, RUDONG).key_id == key.key_id
    assert region_key_files(tmp_path / "keys", RUDONG) == [path]


def test_a_key_id_is_sixteen_hex_digits_and_the_repr_shows_no_key_bytes() -> None:
    """Ids are short and stable; a key printed by mistake shows its id, not its bytes."""
    key = new_signing_key(RUDONG)
    assert len(key.key_id) == 16
    int(key.key_id, 16)
    assert "PRIVATE" not in repr(key)
    assert base64.b64encode(key.public_key).decode() not in repr(key)


def test_an_unreadable_key_file_is_a_key_file_error_without_its_content(tmp_path: Path) -> None:
    """A garbage file is refused with a message naming the file, not quoting it."""
    bad = tmp_path / "bad.pem"
    bad.write_text("secret-ish text")
    with pytest.raises(KeyFileError) as refused:
        load_signing_key(bad, RUDONG)
    assert "secret-ish" not in str(refused.value)


def test_the_root_is_pinned_by_base64_or_by_a_file(tmp_path: Path) -> None:
    """CASESYNC_TRUST_ROOT may be the key's base64, a file of it, or a PEM public key file."""
    root = new_signing_key("root")
    text = base64.b64encode(root.public_key).decode()
    file = tmp_path / "root.pub"
    file.write_text(text + "\n")
    assert parse_root_public(text).public_key == root.public_key
    assert parse_root_public(str(file)).key_id == root.key_id
    with pytest.raises(KeyFileError):
        parse_root_public("not a key")


def test_the_newest_key_valid_now_signs(federation: object) -> None:
    """Of a region's keys, the one the manifest finds valid with the latest window start."""
    old, new = new_signing_key(RUDONG), new_signing_key(RUDONG)
    entries = {
        old.key_id: old.entry(NOW - 10 * DAY, NOW + 2 * DAY),
        new.key_id: new.entry(NOW + DAY, NOW + 400 * DAY),
    }
    assert choose_signing_key([old, new], entries, NOW) is old
    assert choose_signing_key([old, new], entries, NOW + 1.5 * DAY) is new
    assert choose_signing_key([old], entries, NOW + 3 * DAY) is None
