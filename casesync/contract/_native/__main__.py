"""``python -m casesync.contract._native``: build the compiled case event codecs (once)."""

from __future__ import annotations

import sys

from casesync.contract.native import BUILD_DIR, build
from casesync.native_build import build_command

if __name__ == "__main__":
    sys.exit(build_command(build, "case event codecs", BUILD_DIR))
