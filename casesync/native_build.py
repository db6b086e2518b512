"""Compiling Cython sources in place, for the compiled fast paths (``make setup`` runs it).

Each compiled module is named after the hash of its source, so a stale build is never loaded:
a changed source gets a new name, and until it is built the pure Python path does the work.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path


def source_name(prefix: str, text: str) -> str:
    """The module name for ``text``: ``prefix`` and the hash of the source."""
    return prefix + hashlib.sha256(text.encode()).hexdigest()[:20]


def build_modules(folder: Path, prefix: str, texts: Iterable[str], what: str) -> list[Path]:
    """Write each of ``texts`` into ``folder`` as ``<prefix><hash>.pyx`` unless it is there,
    remove the ``prefix`` files of sources no longer wanted, and compile those not built; the
    sources compiled now."""
    sources = []
    for text in texts:
        path = folder / f"{source_name(prefix, text)}.pyx"
        if not path.exists():
            path.write_text(text)
        sources.append(path)
    wanted = {path.stem for path in sources}
    for stale in folder.glob(f"{prefix}*"):
        if stale.name.split(".")[0] not in wanted:
            stale.unlink()
    return _compile_in_place(sources, what)


def _compile_in_place(sources: list[Path], what: str) -> list[Path]:
    """Compile those of ``sources`` (``.pyx`` files in one folder) that have no built module
    beside them; the ones compiled now. RuntimeError, with the compiler's output, on failure."""
    missing = [p for p in sources if not any(p.parent.glob(f"{p.stem}.*.so"))]
    if missing:
        compiler = subprocess.run(
            [sys.executable, "-m", "Cython.Build.Cythonize", "-i", "-3", "-q", "-j", "2",
             *map(str, missing)],
            cwd=missing[0].parent, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if compiler.returncode != 0:
            raise RuntimeError(
                f"compiling the {what} failed (needs Cython and a C compiler):\n"
                + compiler.stdout[-4000:]
                + compiler.stderr[-4000:]
            )
    return missing


def build_command(build: Callable[[], list[Path]], what: str, where: Path) -> int:
    """The exit status of a ``python -m ..._native`` build: 1, with the compiler's output, when
    it failed; 0 with one line saying what was compiled."""
    try:
        compiled = build()
    except RuntimeError as failure:
        print(failure, file=sys.stderr)
        return 1
    state = f"{len(compiled)} compiled" if compiled else "up to date"
    print(f"compiled {what} in {where}: {state}")
    return 0
