"""Keep garbage-collection pauses out of the dashboard's frames.

A full collection walks every tracked object; with 10,000 partitions and 500 groups on screen the
dashboard holds 300,000-400,000 of them, and CPython stops every thread for the whole walk
(measured: 100-200 ms, several times per refresh, ~2 s of pauses in a 5 s load). Young
collections stay as they are (they are cheap and free most cyclic garbage); the full ones happen
only on our clock, right after a refresh has been shown, once per ``full_every`` seconds.
Everything not in a reference cycle is freed by reference counting as usual, so memory stays
bounded; only cyclic garbage that survived two young collections waits for the next full one.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

FULL_COLLECTION_SECONDS = 600.0
_NEVER = 10**9  # young collections before CPython would start a full one by itself


class GcSchedule:
    def __init__(self, full_every: float = FULL_COLLECTION_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.full_every = full_every
        self.clock = clock
        self._last_full = clock()
        self._saved: tuple[int, int, int] | None = None

    def start(self) -> None:
        young, middle, _ = self._saved = gc.get_threshold()
        gc.set_threshold(young, middle, _NEVER)

    def stop(self) -> None:
        if self._saved is not None:
            gc.set_threshold(*self._saved)
            self._saved = None

    def settle(self) -> None:
        """Call when fresh data is on screen: the full collection, when due, happens now."""
        if self.clock() - self._last_full >= self.full_every:
            gc.collect()
            self._last_full = self.clock()
