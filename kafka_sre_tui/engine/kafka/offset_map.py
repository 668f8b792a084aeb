"""The exact map source offset -> target offset of one partition copied record by record.

Restore (and migration) write a partition's records in source order to one target partition, so
the map is a list of runs: ``count`` records whose source offsets are consecutive from
``source_first`` and whose target offsets are consecutive from ``target_first``. A run ends where
the source has a gap (compaction, transaction markers, a range that skips) or the target does (a
new run per resumed writer). The map is built from the produce results, never assumed.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any


@dataclass
class OffsetMap:
    runs: list[tuple[int, int, int]] = field(default_factory=list)  # (source_first, target_first, count)

    @property
    def records(self) -> int:
        return sum(count for _s, _t, count in self.runs)

    @property
    def source_next(self) -> int | None:
        """One past the last source offset written (None when nothing is)."""
        if not self.runs:
            return None
        source, _target, count = self.runs[-1]
        return source + count

    @property
    def target_next(self) -> int | None:
        if not self.runs:
            return None
        _source, target, count = self.runs[-1]
        return target + count

    def add(self, source_first: int, target_first: int, count: int = 1) -> None:
        """Record that ``count`` records from ``source_first`` landed at ``target_first`` on.
        Offsets must grow on both sides: a map never goes back."""
        if count <= 0:
            return
        if self.runs:
            s, t, c = self.runs[-1]
            if source_first < s + c or target_first < t + c:
                raise ValueError(f"offsets must grow: run ({s}, {t}, {c}) then ({source_first}, {target_first})")
            if source_first == s + c and target_first == t + c:
                self.runs[-1] = (s, t, c + count)
                return
        self.runs.append((source_first, target_first, count))

    def add_offsets(self, source_offsets: list[int], target_first: int) -> None:
        """Consecutive target offsets from ``target_first`` for these source offsets (in order)."""
        if source_offsets and source_offsets[-1] - source_offsets[0] == len(source_offsets) - 1:
            self.add(source_offsets[0], target_first, len(source_offsets))  # no gap (offsets only grow)
            return
        start = 0
        for i in range(1, len(source_offsets) + 1):
            if i == len(source_offsets) or source_offsets[i] != source_offsets[i - 1] + 1:
                self.add(source_offsets[start], target_first + start, i - start)
                start = i

    def target_of(self, source_offset: int) -> int | None:
        """Target offset of the record that was at ``source_offset`` (None if it was not written)."""
        i = bisect.bisect_right(self.runs, (source_offset, float("inf"), 0)) - 1
        if i < 0:
            return None
        s, t, c = self.runs[i]
        return t + (source_offset - s) if source_offset < s + c else None

    def translate_position(self, source_position: int, target_end: int) -> int:
        """Where a consumer at source position X (next record to read: X) goes on the target: the
        first written record with source offset >= X; past everything written, ``target_end``."""
        i = bisect.bisect_right(self.runs, (source_position, float("inf"), 0)) - 1
        if i >= 0:
            s, t, c = self.runs[i]
            if source_position < s + c:
                return t + (source_position - s)
        if i + 1 < len(self.runs):
            return self.runs[i + 1][1]
        return target_end

    def to_json(self) -> list[list[int]]:
        return [list(run) for run in self.runs]

    @classmethod
    def from_json(cls, doc: Any) -> OffsetMap:
        return cls([(int(s), int(t), int(c)) for s, t, c in doc])
