"""Lag in time: how long ago the record at the committed offset was written.

Two ways, best first: the record's own timestamp (read from Kafka), else interpolation over the
sampled (time, end offset) points: the record at offset ``c`` was appended when the end offset
passed ``c``. Never NaN and never extrapolated: when the record is older than the sampled data,
the answer is a lower bound ("≥ the span of the data").
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from kafka_sre_tui.engine.drain.samples import RecordAt

TIMESTAMP = "timestamp"
INTERPOLATED = "interpolated"
CAUGHT_UP = "caught up"


@dataclass(frozen=True)
class LagTime:
    seconds: float
    lower_bound: bool  # the true value is at least ``seconds``
    method: str  # TIMESTAMP, INTERPOLATED or CAUGHT_UP

    def describe(self) -> str:
        return f"{'≥ ' if self.lower_bound else ''}{format_seconds(self.seconds)}"


ZERO = LagTime(0.0, False, CAUGHT_UP)


def from_record(now: float, committed: int, record: RecordAt) -> LagTime:
    """Age of the first record at or after the committed offset (clamped at 0: producer clocks drift)."""
    return LagTime(max(now - record.timestamp_ms / 1000.0, 0.0), record.offset > committed, TIMESTAMP)


def interpolate(now: float, committed: int, ends: Sequence[tuple[float, int]]) -> LagTime:
    """Lag in time from sampled (time, end offset) points, oldest first.

    Walks back from the newest point to the last one whose end offset had not yet passed the
    committed offset, and interpolates linearly between it and the next point."""
    if not ends:
        return LagTime(0.0, True, INTERPOLATED)
    target = committed + 1  # the end offset right after the record at ``committed`` was appended
    for j in range(len(ends) - 1, -1, -1):
        t_j, e_j = ends[j]
        if e_j < target:
            if j == len(ends) - 1:
                return ZERO  # the committed offset is at or past the end: nothing left to read
            t_k, e_k = ends[j + 1]
            written = t_j + (target - e_j) / (e_k - e_j) * (t_k - t_j)  # e_k >= target > e_j
            return LagTime(max(now - written, 0.0), False, INTERPOLATED)
    return LagTime(max(now - ends[0][0], 0.0), True, INTERPOLATED)


def format_seconds(seconds: float) -> str:
    """Short human duration: 0.4 s, 12 s, 3 m 20 s, 2 h 05 m, 3 d 04 h."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    return _whole_seconds(round(seconds))


@functools.lru_cache(maxsize=4096)  # the data-loss look words tens of thousands of nearby ages per refresh
def _whole_seconds(s: int) -> str:
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} m {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} m"
    return f"{s // 86400} d {s % 86400 // 3600:02d} h"
