"""New principals' passwords: random, in a file only its owner may read, never elsewhere."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from casesync.access.credentials import CredentialsFolder
from casesync.access.errors import CredentialsNotWritten


def test_a_new_password_is_saved_in_a_private_properties_file(tmp_path: Path) -> None:
    """The file holds username= and password= lines, is 0600 in a 0700 folder, and holds the
    password returned."""
    folder = CredentialsFolder(tmp_path / "secrets")
    password = folder.new_password("320623")
    path = folder.path_for("320623")
    assert path == tmp_path / "secrets" / "320623.properties"
    assert path.read_text() == f"username=320623\npassword={password}\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(password) >= 40


def test_each_password_is_new_and_replaces_the_old_file(tmp_path: Path) -> None:
    """A second password for the same user differs and is the one the file keeps; no
    temporary file is left behind."""
    folder = CredentialsFolder(tmp_path)
    first = folder.new_password("330483")
    second = folder.new_password("330483")
    assert first != second
    assert f"password={second}\n" in folder.path_for("330483").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["330483.properties"]


def test_an_unwritable_folder_is_one_typed_error_without_the_password(tmp_path: Path) -> None:
    """A folder that cannot be made gives CredentialsNotWritten naming the file, not a secret."""
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    folder = CredentialsFolder(blocker / "secrets")
    with pytest.raises(CredentialsNotWritten, match=r"taken/secrets/320623\.properties"):
        folder.new_password("320623")
