"""Where the local PostgreSQL keeps its cluster when its account cannot reach the run folder."""

from __future__ import annotations

from pathlib import Path

from infra.postgres.launcher import OUTSIDE_RUN_DIR, outside_home


def test_each_run_folder_gets_one_stable_folder_outside_it() -> None:
    """The same run folder always maps to the same folder under /var/lib/casesync, and two run
    folders (two clones) never share one."""
    first = outside_home(Path("/root/casesync/.run"))
    assert first == outside_home(Path("/root/casesync/.run"))
    assert first.parent == OUTSIDE_RUN_DIR
    assert first != outside_home(Path("/root/other-clone/.run"))
