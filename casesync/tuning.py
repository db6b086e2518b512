"""Process-wide tuning of casesync's long-running processes: the garbage collector and the GIL.

The relay keeps thousands of send futures alive while the broker acknowledges them, and the
consumer a batch of thousands of records, each a dozen objects (the record, its headers, the
decoded event, its row), while the previous batch commits. A young collection walks every live
object allocated since the last one, so each collection walked the batch in hand again. With
CPython's defaults (every 700 net allocations) that was about a fifth of the relay's time. With
20,000 it was still 75-79 collections (of up to 40-80 ms) and 0.4-0.65 s for every 100,000
records a consumer applied, about a tenth of its time. Nearly all of casesync's garbage is freed
by reference counting the moment it is dropped, a batch's objects included, so at 200,000 a
collection comes only when live objects really grew, or cycles piled up, by that many: one
collection (50-90 ms) per 100,000 records applied, at the same resident memory.

A consumer's writer thread waits on PostgreSQL several times per batch, and each time it needs
the GIL back from the thread decoding the next batch. CPython hands the GIL over only after its
switch interval (5 ms by default), and those waits were about a fifth of a batch. A shorter
interval costs a relay about 10% (its threads trade the GIL more often for no gain), so a process
that only relays keeps the default; ``casesync run`` (relay and consumer in one process) takes the
consumer's side.
"""

from __future__ import annotations

import gc
import sys

# Young-generation threshold (net allocations of tracked objects) and the two older generations'
# multipliers (CPython's defaults: 700, 10, 10).
GC_THRESHOLDS = (200_000, 50, 100)
# Seconds a thread that wants the GIL waits before the running thread is asked to let go.
CONSUMER_SWITCH_INTERVAL_S = 0.0005


def tune_for_throughput() -> None:
    """Collect cycles less often, and leave what exists now (modules, the catalogue) out of
    every later collection. Called once by each process's composition root."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def tune_for_consuming() -> None:
    """Hand the GIL to a thread back from PostgreSQL sooner. Called by the composition root
    of each process that runs a consumer."""
    sys.setswitchinterval(CONSUMER_SWITCH_INTERVAL_S)
