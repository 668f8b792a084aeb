"""When is a group drained, and when do we stop waiting.

Lag-based: total lag ≤ ``max_lag`` (and, if set, every partition ≤ ``max_partition_lag``).
Time-based: lag in time ≤ ``max_lag_seconds`` on every partition; give up at ``timeout_seconds``.
The goals that are set must all hold, for ``hold_samples`` consecutive samples. A partition with
records but no commit never counts as drained: the group has proven nothing there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kafka_sre_tui.engine.drain.lag_time import LagTime, format_seconds
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import MAX_SECONDS, check_count, check_seconds


@dataclass(frozen=True)
class DrainGoal:
    max_lag: int | None = None
    max_partition_lag: int | None = None
    max_lag_seconds: float | None = None
    hold_samples: int = 3
    timeout_seconds: float | None = None
    stop_when_stalled: bool = True  # end the wait (exit 3) once the group is STALLED

    def __post_init__(self) -> None:
        for name in ("max_lag", "max_partition_lag", "max_lag_seconds"):
            value = getattr(self, name)
            if value is not None and (value < 0 or not math.isfinite(value)):
                raise ConfigError(f"--{name.replace('_', '-')} must be 0 or more, got {value}")
        for name in ("max_lag", "max_partition_lag"):
            if getattr(self, name) is not None:
                check_count(f"--{name.replace('_', '-')}", getattr(self, name))
        if self.max_lag_seconds is not None and self.max_lag_seconds > MAX_SECONDS:
            raise ConfigError(f"--max-lag-seconds must be at most {MAX_SECONDS:,} (366 days), "
                              f"got {self.max_lag_seconds:g}")
        if self.timeout_seconds is not None:
            check_seconds("--timeout-seconds", self.timeout_seconds)
        check_count("--hold", self.hold_samples, minimum=1)
        if self.max_lag is None and self.max_partition_lag is None and self.max_lag_seconds is None:
            object.__setattr__(self, "max_lag", 0)  # no target given: drained means no lag at all

    def describe(self) -> str:
        parts = []
        if self.max_lag is not None:
            parts.append(f"total lag ≤ {self.max_lag}")
        if self.max_partition_lag is not None:
            parts.append(f"every partition lag ≤ {self.max_partition_lag}")
        if self.max_lag_seconds is not None:
            parts.append(f"lag in time ≤ {format_seconds(self.max_lag_seconds)}")
        return " and ".join(parts) + f", held {self.hold_samples} samples"


@dataclass(frozen=True)
class PartitionState:
    name: str
    lag: int | None
    end_offset: int | None
    lag_time: LagTime | None


def unmet(goal: DrainGoal, partitions: Sequence[PartitionState]) -> str | None:
    """None when this sample meets the goal; else the first reason it does not, in words."""
    for p in partitions:
        if p.lag is None and p.end_offset:
            return f"{p.name} has records but no commit"
    total = sum(p.lag or 0 for p in partitions)
    if goal.max_lag is not None and total > goal.max_lag:
        return f"total lag {total} > {goal.max_lag}"
    if goal.max_partition_lag is not None:
        for p in partitions:
            if (p.lag or 0) > goal.max_partition_lag:
                return f"{p.name} lag {p.lag} > {goal.max_partition_lag}"
    if goal.max_lag_seconds is not None:
        for p in partitions:
            t = p.lag_time
            if not p.lag or t is None:
                continue
            if t.seconds > goal.max_lag_seconds:
                return f"{p.name} lag in time {t.describe()} > {format_seconds(goal.max_lag_seconds)}"
            if t.lower_bound:
                limit = format_seconds(goal.max_lag_seconds)
                return f"{p.name} lag in time {t.describe()}: not yet known to be ≤ {limit}"
    return None
