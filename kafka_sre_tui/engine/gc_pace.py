"""Run Python's cycle collector less often: a listing of a large cluster makes a million small objects.

CPython collects its youngest generation every 700 net allocations of container objects, and every
tenth of those collections reaches the middle one; a full collection comes when the objects that
survived grew by a quarter. Building the listing of 8,000 topics / 40,000 partitions / 2,500 groups
(tuples, dicts, one object per partition and group partition) ran thousands of collections, each
walking objects that are all still in use. Measured there, the stages of one look timed one after
another (Metadata, ListOffsets twice, the groups' positions, the objects built from them): 3.0-4.1 s
with the defaults, 2.0-2.4 s with collection off or with a first threshold of 50,000.

Nearly everything the tool frees goes by reference counting; the collector is only for cycles,
which a larger first threshold leaves for longer (a few MB at most), never forever.

Not for the dashboard, which keeps its own schedule (tui/gc_schedule.py: young collections at
Python's pace, full ones only every 10 minutes, right after a refresh is shown): there each
collection is a frame the screen cannot draw, and fewer, larger young collections made its longest
frames worse while it loaded that cluster (young collections of 100,000 objects took 100-140 ms, a
middle one 540 ms; at Python's pace 0.5-60 ms each).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 100_000


def fewer_collections() -> None:
    """Once per process, before the work: collect the young generation every 100,000 allocations."""
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
