"""Time to drain: the slowest partition decides.

Per partition ``lag / (consumption − production)``, the net rate being minus the least-squares slope
of its lag. The range uses the slope's standard error (±2σ); when the slower edge of the net rate is
not positive, the range has no upper end.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kafka_sre_tui.engine.drain.lag_time import format_seconds

Z = 2.0  # about 95 % for a normal error

DRAINED = "drained"
KEEPING_UP = "keeping up"  # lag left, but every lagging partition keeps pace (status OK): nothing to wait for
DRAINING = "draining"
NOT_DRAINING = "not draining"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Eta:
    state: str  # DRAINED, KEEPING_UP, DRAINING, NOT_DRAINING or UNKNOWN
    seconds: float | None = None
    low: float | None = None  # range; None when unknown (two points) ...
    high: float | None = None  # ... or, for ``high`` only, unbounded
    bounded: bool = True  # False: the range has no upper end

    def describe(self) -> str:
        if self.state != DRAINING or self.seconds is None:
            return self.state
        text = f"~{format_seconds(self.seconds)}"
        if self.low is not None:
            upper = format_seconds(self.high) if self.high is not None else "∞"
            text += f" ({format_seconds(self.low)}–{upper})"
        return text


@dataclass(frozen=True)
class PartitionDrain:
    """One lagging partition as the ETA sees it: its lag and its net drain rate with error."""

    lag: int
    net_rate: float | None  # consumption − production, per second; None when not measurable
    stderr: float | None
    draining: bool  # False when the partition cannot drain by itself (stopped, stalled)


def partition_eta(p: PartitionDrain) -> Eta:
    if p.lag <= 0:
        return Eta(DRAINED, 0.0, 0.0, 0.0)
    if not p.draining:
        return Eta(NOT_DRAINING)
    if p.net_rate is None:
        return Eta(UNKNOWN)
    if p.net_rate <= 0:
        return Eta(NOT_DRAINING)
    seconds = p.lag / p.net_rate
    if not math.isfinite(seconds):
        return Eta(NOT_DRAINING)  # a net rate so small it is no rate
    if p.stderr is None:
        return Eta(DRAINING, seconds)
    fast, slow = p.net_rate + Z * p.stderr, p.net_rate - Z * p.stderr
    high = p.lag / slow if slow > 0 else math.inf
    if not math.isfinite(high):
        return Eta(DRAINING, seconds, p.lag / fast, None, False)
    return Eta(DRAINING, seconds, p.lag / fast, high)


def group_eta(partitions: Sequence[PartitionDrain]) -> Eta:
    """Max over partitions of each ETA and of each end of its range."""
    etas = [partition_eta(p) for p in partitions]
    lagging = [e for e in etas if e.state != DRAINED]
    if not lagging:
        return Eta(DRAINED, 0.0, 0.0, 0.0)
    if any(e.state == NOT_DRAINING for e in lagging):
        return Eta(NOT_DRAINING)
    if any(e.state == UNKNOWN for e in lagging):
        return Eta(UNKNOWN)
    seconds = max(e.seconds or 0.0 for e in lagging)
    if any(e.low is None for e in lagging):
        return Eta(DRAINING, seconds)
    low = max(e.low or 0.0 for e in lagging)
    bounded = all(e.bounded for e in lagging)
    high = max(e.high or 0.0 for e in lagging) if bounded else None
    return Eta(DRAINING, seconds, low, high, bounded)


def keeping_up(eta: Eta, total_lag: int) -> Eta:
    """"drained" would be untrue while records are still behind: a group keeping up is said so."""
    return Eta(KEEPING_UP) if eta.state == DRAINED and total_lag > 0 else eta
