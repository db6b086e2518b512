"""One deterministic digest of case state, so a source region and a partner can be compared.

``owned`` digests the region's own ``cases``; ``mirror_of`` digests its mirror of one partner.
Both read (case_id, version, snapshot) and hash with ``casesync.snapshots.digest_cases``, so the
source's ``owned`` equals the partner's ``mirror_of(source)`` exactly when both hold the same
versions of the same cases (all of the source's cases being shared with that partner).
"""

from __future__ import annotations

from typing import Any

from casesync.snapshots import digest_cases


def owned(cur: Any) -> tuple[str, int]:
    """(sha256 hex, count) of the region's own cases."""
    cur.execute("SELECT case_id, version, snapshot FROM cases")
    return digest_cases(cur.fetchall())


def mirror_of(cur: Any, source_region: str) -> tuple[str, int]:
    """(sha256 hex, count) of the region's mirror of ``source_region``'s cases."""
    cur.execute(
        "SELECT case_id, version, snapshot FROM mirror_cases WHERE source_region = %s",
        (source_region,),
    )
    return digest_cases(cur.fetchall())
