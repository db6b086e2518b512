"""Where launcher state lives: the cache (downloaded jars) and the run folder (data, logs, pids)."""

from __future__ import annotations

import os
import random
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


def free_ports(count: int = 1) -> int:
    """The first of ``count`` consecutive free ports, for a test's or a benchmark's own servers.

    Taken below the kernel's ephemeral range: a port from ``bind(0)`` lies inside it, and any
    outgoing connection made before the server binds can take it as its local port (a three-node
    test lost a controller port that way). Above 20000, clear of the fixed local ports."""
    low, _ = _ephemeral_range()
    candidates = list(range(20000, max(low - count, 20001)))
    random.shuffle(candidates)
    for first in candidates[:200]:
        if all(_bindable(first + i) for i in range(count)):
            return first
    raise OSError(f"no {count} consecutive free ports between 20000 and {low}")


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def _bindable(port: int) -> bool:
    """Whether ``port`` can be bound now: taken by no listener and no connection."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


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
