"""The compiled batch-mate check (``batch_mates.pyx``), built ahead of time, loaded if current.

``Verifier.refusals`` hands each run of records to ``settle`` and takes over, in Python, at the
first record it could not prove: the first of a batch not seen yet, a record of another suite,
anything malformed. In C a batch-mate costs about a microsecond instead of about seven, which
is most of what verification adds to the consumer.

Build once per machine (``make setup`` does it): ``python -m casesync.trust._native`` copies the
source into ``casesync/trust/_native/`` under the hash of its text and compiles it with Cython
against OpenSSL's libcrypto (SHA-256). A module is loaded only when it was built from today's
source; otherwise, or without a compiler, every record takes the Python path, with the same
verdicts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from casesync.native_build import compile_in_place, source_name
from casesync.trust.tree import LEAF_PREFIX, NODE_PREFIX

PACKAGE = "casesync.trust._native"
SOURCE = Path(__file__).resolve().parent / "batch_mates.pyx"
BUILD_DIR = SOURCE.parent / "_native"

Settle = Callable[[list[Any], int, bytes, dict[bytes, Any], dict[bytes, bytes], int, int], int]


def _module_name() -> str:
    return source_name("batch_mates_", SOURCE.read_text())


def load_settle() -> Settle | None:
    """The compiled ``settle`` when built from today's source, else None."""
    try:
        module = importlib.import_module(f"{PACKAGE}.{_module_name()}")
    except ImportError:
        return None
    if (module.LEAF_PREFIX, module.NODE_PREFIX) != (LEAF_PREFIX, NODE_PREFIX):
        return None  # built for another leaf layout: its proofs would not be ours
    settle: Settle = module.settle
    return settle


def build() -> list[Path]:
    """Compile the module for today's source unless built; the sources compiled now."""
    target = BUILD_DIR / f"{_module_name()}.pyx"
    if not target.exists():
        target.write_text(SOURCE.read_text())
    for stale in BUILD_DIR.glob("batch_mates_*"):
        if stale.name.split(".")[0] != target.stem:
            stale.unlink()
    return compile_in_place([target], "batch-mate check")
