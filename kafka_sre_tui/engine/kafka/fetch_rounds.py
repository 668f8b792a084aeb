"""Fair rounds of raw fetches over many partitions, and when to give up on a partition that gets nothing.

A fetch answer is capped (``max_bytes``) and the broker fills it in the order the partitions were
asked: with more partitions holding data than the cap allows, the last ones asked get no bytes at all
in that round. They are starved, not idle. So the partitions that waited longest are asked first, and a
round counts as idle only when no partition at all advanced in it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class FetchRounds(Generic[K]):
    def __init__(self, max_idle_rounds: int) -> None:
        self.max_idle_rounds = max_idle_rounds
        self.idle_rounds = 0  # rounds in a row in which nothing advanced
        self._waited: dict[K, int] = {}

    def order(self, partitions: Iterable[K]) -> list[K]:
        """The partitions, those that waited longest for data first."""
        return sorted(partitions, key=lambda k: -self._waited.get(k, 0))

    def advanced(self, key: K) -> None:
        self._waited.pop(key, None)

    def waited(self, key: K) -> None:
        self._waited[key] = self._waited.get(key, 0) + 1

    def end_round(self, any_advanced: bool) -> bool:
        """True when the read should give up: ``max_idle_rounds`` rounds in a row brought nothing."""
        self.idle_rounds = 0 if any_advanced else self.idle_rounds + 1
        return self.idle_rounds > self.max_idle_rounds
