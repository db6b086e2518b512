"""Where the local PostgreSQL keeps its cluster when its account cannot reach the run folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infra.errors import StillRunning
from infra.postgres.launcher import OUTSIDE_RUN_DIR, forget_outside_clusters, outside_home


def test_each_run_folder_gets_one_stable_folder_outside_it() -> None:
    """The same run folder always maps to the same folder under /var/lib/casesync, and two run
    folders (two clones) never share one."""
    first = outside_home(Path("/root/casesync/.run"))
    assert first == outside_home(Path("/root/casesync/.run"))
    assert first.parent == OUTSIDE_RUN_DIR
    assert first != outside_home(Path("/root/other-clone/.run"))


def _placed(run: Path, root: Path) -> Path:
    """A cluster placed outside ``run`` as the launcher places it: the folder, and the link."""
    outside = outside_home(run, root)
    (outside / "data").mkdir(parents=True)
    run.mkdir(parents=True, exist_ok=True)
    (run / "postgres").symlink_to(outside, target_is_directory=True)
    return outside


def test_clean_deletes_the_clusters_placed_outside_the_run_folder_and_its_stacks(
    tmp_path: Path,
) -> None:
    """`make clean` deletes the outside folders of the run folder and of the stacks within it,
    and leaves alone a link that points anywhere else."""
    root, run = tmp_path / "var", tmp_path / "clone" / ".run"
    main, faults = _placed(run, root), _placed(run / "faults", root)
    elsewhere = tmp_path / "someone-elses"
    elsewhere.mkdir()
    (run / "drill").mkdir()
    (run / "drill" / "postgres").symlink_to(elsewhere, target_is_directory=True)

    assert sorted(forget_outside_clusters(run, root)) == sorted([main, faults])
    assert not main.exists()
    assert not faults.exists()
    assert elsewhere.exists()


def test_clean_refuses_while_a_server_runs_from_the_outside_folder(tmp_path: Path) -> None:
    """A cluster whose server still runs is not deleted under it; the refusal says so."""
    root, run = tmp_path / "var", tmp_path / "clone" / ".run"
    outside = _placed(run, root)
    (outside / "data" / "postmaster.pid").write_text(f"{os.getpid()}\n")

    with pytest.raises(StillRunning, match="still runs"):
        forget_outside_clusters(run, root)
    assert outside.exists()
