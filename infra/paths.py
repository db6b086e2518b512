"""Where launcher state lives: the cache (downloaded jars) and the run folder (data, logs, pids)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from casesync.settings import local_run_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_dir() -> Path:
    """The run folder: ``CASESYNC_RUN_DIR`` or ``<project>/.run`` (where clients look too)."""
    return local_run_dir(os.environ)


def local_kafka_port() -> int:
    """The local broker's client port: ``CASESYNC_LOCAL_KAFKA_PORT`` or 19092 (its controller
    listens on the next port). A second local stack (a fault drill, another checkout) sets its
    own ports and ``CASESYNC_RUN_DIR`` so it never touches the first."""
    return _port("CASESYNC_LOCAL_KAFKA_PORT", 19092)


def local_postgres_port() -> int:
    """The local PostgreSQL cluster's port: ``CASESYNC_LOCAL_POSTGRES_PORT`` or 15432."""
    return _port("CASESYNC_LOCAL_POSTGRES_PORT", 15432)


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1024 <= int(raw) <= 65534:
        raise ValueError(f"{name} must be a port number from 1024 to 65534, got {raw!r}")
    return int(raw)


def cache_dir() -> Path:
    """The folder for downloaded broker jars: ``CASESYNC_CACHE_DIR`` or ``<project>/.cache``."""
    return Path(os.environ.get("CASESYNC_CACHE_DIR", PROJECT_ROOT / ".cache")).resolve()


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def pid_alive(pid_file: Path) -> int | None:
    """The pid recorded in pid_file when that process still runs, else None."""
    try:
        pid = int(pid_file.read_text().split("\n", 1)[0].strip())  # postmaster.pid: pid first
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    except PermissionError:
        return pid  # alive, owned by another user (the postgres server when we are root)
    return None if _exited_child(pid) else pid


def _exited_child(pid: int) -> bool:
    """True when pid is our own child that has exited (a zombie until reaped): reap it."""
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False  # not our child: `os.kill(pid, 0)` already answered for it
    return reaped == pid
