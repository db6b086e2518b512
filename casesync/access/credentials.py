"""A new principal's password: made here, kept in one 0600 file, never printed or logged.

The file is ``<folder>/<user>.properties`` with ``username=`` and ``password=`` lines, the form a
region's process reads its Kafka credentials from.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from casesync.access.errors import CredentialsNotWritten
from casesync.private_files import write_private

PASSWORD_BYTES = 32  # 256 random bits, URL-safe text: no quoting in a properties file


class CredentialsFolder:
    """Writes each new principal's credentials file; the folder is made 0700 when missing."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, user: str) -> Path:
        """Where ``user``'s credentials file lives."""
        return self.folder / f"{user}.properties"

    def new_password(self, user: str) -> str:
        """A fresh random password for ``user``, already saved in its file (which it replaces).

        Saved before the broker hears of it: a password the broker holds but no file keeps
        would lock the region out until someone reset it.
        """
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        path = self.path_for(user)
        try:
            write_private(path, f"username={user}\npassword={password}\n".encode("ascii"))
        except OSError as e:
            raise CredentialsNotWritten(str(path), e.strerror or type(e).__name__) from e
        return password
