"""``python -m casesync.contract._native``: build the compiled case event codecs (once)."""

from __future__ import annotations

import sys

from casesync.contract.native import BUILD_DIR, build


def main() -> int:
    try:
        compiled = build()
    except RuntimeError as failure:
        print(failure, file=sys.stderr)
        return 1
    state = f"{len(compiled)} compiled" if compiled else "up to date"
    print(f"compiled case event codecs in {BUILD_DIR}: {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
