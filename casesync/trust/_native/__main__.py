"""``python -m casesync.trust._native``: build the compiled SHA-256 hashing (once)."""

from __future__ import annotations

import sys

from casesync.native_build import build_command
from casesync.trust.native import BUILD_DIR, build

if __name__ == "__main__":
    sys.exit(build_command(build, "SHA-256 hashing", BUILD_DIR))
