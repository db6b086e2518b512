"""Runs a private PostgreSQL cluster from Debian's packages on 127.0.0.1.

PostgreSQL refuses to run as root, so when we are root the cluster belongs to the unprivileged
``postgres`` account and every server command runs through ``runuser``. Steps of ``start``:
  1. install Debian's ``postgresql`` when no server binaries exist (needs root);
  2. ``initdb`` once into ``<run>/postgres/data`` (trust auth on loopback: a private dev cluster);
  3. ``pg_ctl start`` and wait for it; create the ``casesync`` database once.

When that account cannot reach the run folder (a clone under ``/root``, mode 0700), the cluster's
folder is ``/var/lib/casesync/<hash of the run folder>`` instead and ``<run>/postgres`` is a
symbolic link to it; ``make clean`` deletes it with the run folder (``forget_outside_clusters``),
and one orphaned otherwise is replaced by the next ``initdb`` from the same run folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from infra.errors import MissingPrerequisite, PortBusy, ServiceStartFailed, StillRunning
from infra.paths import local_postgres_port, pid_alive, port_open, run_dir

SUPERUSER = "casesync"
DATABASE = "casesync"
SERVER_ACCOUNT = "postgres"
# Where the cluster lives when the server's account cannot reach the run folder.
OUTSIDE_RUN_DIR = Path("/var/lib/casesync")


def server_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's bin folder (Debian layout), if any."""
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in root.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1]
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def install_server() -> Path:
    """Install Debian's postgresql package (root only) and return its bin folder."""
    if os.geteuid() != 0:
        raise MissingPrerequisite(
            "PostgreSQL server not installed: run `sudo apt-get install -y postgresql`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-q", "postgresql"], check=True, env=env)
    found = server_bin_dir()
    if found is None:
        raise MissingPrerequisite("apt-get installed postgresql but no initdb was found")
    return found


@dataclass(frozen=True)
class PostgresLauncher:
    """A private PostgreSQL cluster on 127.0.0.1:port."""

    port: int = field(default_factory=local_postgres_port)

    @property
    def link(self) -> Path:
        """``<run>/postgres``: the cluster's folder, or a link to it outside the run folder."""
        return run_dir() / "postgres"

    @property
    def home(self) -> Path:
        """The cluster's real folder, which the server's account reaches by this path."""
        return self.link.resolve()

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def running_pid(self) -> int | None:
        return pid_alive(self.data / "postmaster.pid") if self.data.exists() else None

    def start(self, timeout: float = 60.0) -> bool:
        """Start the cluster unless ours already runs; True when this call started it."""
        if self.running_pid() is not None:
            return False
        if port_open(self.port):
            raise PortBusy(
                f"port {self.port} is taken by another program; stop it, "
                "or set CASESYNC_DATABASE_URL to use an existing PostgreSQL"
            )
        bin_dir = server_bin_dir() or install_server()
        self._initdb(bin_dir)
        # The port is given at start too: a run folder initialised under another port (the
        # configuration file keeps it) still starts where CASESYNC_LOCAL_POSTGRES_PORT asks.
        self._pg_ctl(
            bin_dir, "start", "-w", "-t", str(int(timeout)), "-l", str(self.log_file),
            "-o", f"-p {self.port}",
        )  # fmt: skip
        self._create_database()
        return True

    def stop(self, mode: str = "fast") -> bool:
        """Stop our cluster (``fast``, or ``immediate`` to simulate a crash); True if it ran."""
        if self.running_pid() is None:
            return False
        bin_dir = server_bin_dir()
        if bin_dir is None:
            raise MissingPrerequisite("PostgreSQL server binaries disappeared")
        self._pg_ctl(bin_dir, "stop", "-w", "-m", mode)
        return True

    def _initdb(self, bin_dir: Path) -> None:
        if (self.data / "PG_VERSION").exists():
            return
        self._place_home()
        sockets = self.home / "sockets"
        sockets.mkdir(exist_ok=True)
        self._give_to_server_user(self.home)
        self._as_server_user(
            str(bin_dir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        settings = (
            f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{sockets}'\nmax_connections = 200\n"
            "shared_buffers = 256MB\nmax_wal_size = 2GB\n"
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(settings)

    def _place_home(self) -> None:
        """Make the cluster's folder where the server's account can reach it: in the run folder,
        or (root, run folder out of that account's reach) outside it behind a link."""
        run = run_dir()
        run.mkdir(parents=True, exist_ok=True)
        if self.link.is_symlink():
            self.home.mkdir(parents=True, mode=0o700, exist_ok=True)  # again, if it was deleted
            return
        if os.geteuid() != 0 or _server_account_reaches(run):
            self.link.mkdir(exist_ok=True)
            return
        if self.link.exists():
            shutil.rmtree(self.link)  # holds no data: an earlier start failed to initdb in it
        outside = outside_home(run)
        if outside.exists():  # its run folder was deleted without `make clean`
            _delete_stopped(outside, ServiceStartFailed(
                f"a PostgreSQL still runs from {outside}, whose run folder {run} was "
                "deleted; stop it before starting another"
            ))  # fmt: skip
        outside.mkdir(parents=True, mode=0o700)
        self.link.symlink_to(outside, target_is_directory=True)

    def _create_database(self) -> None:
        # Imported late: the launcher itself needs no driver until the server runs.
        from casesync.adapters.postgres import ensure_database

        ensure_database(self.url)

    def _pg_ctl(self, bin_dir: Path, *args: str) -> None:
        try:
            self._as_server_user(str(bin_dir / "pg_ctl"), "-D", str(self.data), *args)
        except ServiceStartFailed as e:
            raise ServiceStartFailed(f"{e}; see {self.log_file}") from e

    @staticmethod
    def _give_to_server_user(path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, SERVER_ACCOUNT, SERVER_ACCOUNT)
            for child in path.iterdir():
                shutil.chown(child, SERVER_ACCOUNT, SERVER_ACCOUNT)

    @staticmethod
    def _as_server_user(*command: str) -> str:
        """Run a server command (as the server's account when we are root); its failure is a
        ServiceStartFailed naming the program and the last line it printed."""
        done = subprocess.run(
            [*_server_account_prefix(), *command],
            check=False, capture_output=True, text=True, cwd="/",
        )  # fmt: skip
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()
            raise ServiceStartFailed(
                f"{Path(command[0]).name} exited with {done.returncode}: "
                f"{said[-1] if said else 'no output'}"
            )
        return done.stdout


def forget_outside_clusters(run: Path, root: Path = OUTSIDE_RUN_DIR) -> list[Path]:
    """Delete the clusters kept outside ``run`` and the run folders within it (the test, drill
    and benchmark stacks), before ``make clean`` deletes ``run``: only folders this launcher made
    (the link's target is ``outside_home`` of the link's run folder), and none whose server
    still runs. Returns the folders deleted."""
    deleted: list[Path] = []
    if not run.is_dir():
        return deleted
    # A stack's run folder sits right inside ``run``; nothing deeper (Kafka's data) is looked at.
    for folder in [run, *(child for child in run.iterdir() if child.is_dir())]:
        link = folder / "postgres"
        if not link.is_symlink():
            continue
        target = Path(os.readlink(link))
        if target != outside_home(folder, root) or not target.is_dir():
            continue
        _delete_stopped(target, StillRunning(
            f"a PostgreSQL still runs from {target}; stop it before cleaning"
        ))  # fmt: skip
        deleted.append(target)
    return deleted


def _delete_stopped(home: Path, running: Exception) -> None:
    """Delete a cluster's folder ``home``; ``running`` is raised instead while its server runs."""
    if pid_alive(home / "data" / "postmaster.pid") is not None:
        raise running
    shutil.rmtree(home)


def outside_home(run: Path, root: Path = OUTSIDE_RUN_DIR) -> Path:
    """The cluster's folder outside ``run``: one per run folder, the same on every start."""
    return root / hashlib.sha256(str(run.resolve()).encode()).hexdigest()[:16]


def _server_account_prefix() -> list[str]:
    return ["runuser", "-u", SERVER_ACCOUNT, "--"] if os.geteuid() == 0 else []


def _server_account_reaches(folder: Path) -> bool:
    """True when the server's account may enter ``folder`` (every folder above it included)."""
    done = subprocess.run([*_server_account_prefix(), "test", "-x", str(folder)], check=False)
    return done.returncode == 0
