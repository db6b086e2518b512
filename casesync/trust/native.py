"""The compiled SHA-256 work (``hashing.pyx``), built ahead of time, loaded if current.

``sign_leaves`` makes the headers of its ed25519 trees with ``signed_tree``: leaf hashes (from
the records' fields, never joined in Python), inner nodes, paths and header values in C. Signing
5,000 records in trees of 256 then costs 0.88 µs a record, signatures included, against 3.7 in
Python.

``Verifier.refusals`` hands each run of records to ``settle`` and takes over, in Python, at the
first record it could not prove: the first of a batch not seen yet, a record of another suite,
anything malformed. In C a batch-mate costs about 1.1 µs, timed over 30,000 records as a
consumer read them from six partitions (reading its bytes back from memory, its leaf's hash,
and its path's hashes up to where it joins the path of the record proved before it), instead
of about 9 in Python.

Build once per machine (``make setup`` does it): ``python -m casesync.trust._native`` copies the
source into ``casesync/trust/_native/`` under the hash of its text and compiles it with Cython
against OpenSSL's libcrypto (SHA-256). A module is loaded only when it was built from today's
source; otherwise, or without a compiler, the Python paths do the same work with the same
results.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from casesync.native_build import build_modules, source_name
from casesync.trust.tree import LEAF_PREFIX, NODE_PREFIX, LeafFields

PACKAGE = "casesync.trust._native"
SOURCE = Path(__file__).resolve().parent / "hashing.pyx"
BUILD_DIR = SOURCE.parent / "_native"

Settle = Callable[[list[Any], int, bytes, dict[bytes, Any], object, object, int], int]
SignedTree = Callable[[list[LeafFields], Callable[[bytes], bytes], str], list[tuple[str, bytes]]]


_PREFIX = "hashing_"


@functools.cache
def _module() -> Any:
    try:
        module = importlib.import_module(f"{PACKAGE}.{source_name(_PREFIX, SOURCE.read_text())}")
    except ImportError:
        return None
    if (module.LEAF_PREFIX, module.NODE_PREFIX) != (LEAF_PREFIX, NODE_PREFIX):
        return None  # built for another leaf layout: its proofs would not be ours
    return module


def load_settle() -> Settle | None:
    """The compiled ``settle`` when built from today's source, else None."""
    module = _module()
    return None if module is None else cast(Settle, module.settle)


def load_signed_tree() -> SignedTree | None:
    """The compiled ``signed_tree`` when built from today's source, else None."""
    module = _module()
    return None if module is None else cast(SignedTree, module.signed_tree)


def build() -> list[Path]:
    """Compile the module for today's source unless built; the sources compiled now."""
    return build_modules(BUILD_DIR, _PREFIX, [SOURCE.read_text()], "SHA-256 hashing")
