"""Status of a partition and of a group, judged from sampled offsets (not from commits alone).

A consumer that stops committing does not stop the clock here: end offsets are sampled at our
own interval, so a stopped or stuck consumer shows up even if it never commits again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from kafka_sre_tui.engine.drain.lag_time import format_seconds


class Status(StrEnum):
    OK = "OK"  # no lag, or keeping up (lag touched 0 within the window, or small and steady)
    DRAINING = "DRAINING"  # lag falling
    GROWING = "GROWING"  # lag not decreasing while the committed offset moves (or has not yet stalled)
    STALLED = "STALLED"  # members present, committed offset unchanged for stall_seconds, lag > 0
    STOPPED = "STOPPED"  # no active member consumes the partition, lag > 0
    REWOUND = "REWOUND"  # the committed offset went back within the window
    UNKNOWN = "UNKNOWN"  # not enough data yet: one sample, or no commit on a partition with records


KEEP_UP_SECONDS = 10.0  # a lag under this many seconds of consumption, steady, is "keeping up"
FLAT_FRACTION = 0.1  # a lag trend under 10% of the consumption rate is flat

# Which partition decides the group's status: the first of these found.
SEVERITY = (Status.STOPPED, Status.STALLED, Status.REWOUND, Status.GROWING, Status.DRAINING, Status.UNKNOWN,
            Status.OK)


@dataclass(frozen=True)
class PartitionWindow:
    """What the status rules need to know about one partition, over the rate window."""

    name: str  # topic-partition, for reasons
    lag: int | None
    committed: int | None
    end_offset: int | None
    samples: int  # samples in the window with a commit (after the last rewind)
    committed_moved: bool
    end_moved: bool
    rewound: tuple[int, int] | None  # (from, to) of the last drop within the window
    min_lag: int | None
    lag_slope: float | None  # per second, least squares over the window
    unchanged_for: float  # seconds the committed offset has not moved (at least)
    member_count: int
    assigned: bool
    lag_slope_stderr: float | None = None  # standard error of lag_slope (None with two points)
    consume_rate: float | None = None  # committed offset per second over the window
    pending: bool = False  # its ownership is moving between members (a KIP-848 group reconciling)


def classify(w: PartitionWindow, stall_seconds: float) -> tuple[Status, str]:
    if w.committed is None:
        if not w.end_offset:
            return Status.OK, "empty partition, nothing to consume"
        return Status.UNKNOWN, "no commit on this partition yet"
    if w.rewound:
        return Status.REWOUND, f"committed offset went back from {w.rewound[0]} to {w.rewound[1]}"
    if w.lag == 0:
        return Status.OK, "caught up" if (w.end_moved or w.committed_moved) else "idle: no new records, no lag"
    if w.pending and not w.committed_moved:
        return Status.UNKNOWN, f"reconciling: moving to another member; lag {w.lag} waits for it"
    orphan = w.member_count == 0 or not w.assigned
    if orphan and not w.committed_moved:
        if w.member_count == 0:
            return Status.STOPPED, f"no active members; lag {w.lag} waiting"
        return Status.STOPPED, f"no member owns this partition; lag {w.lag} waiting"
    if w.samples < 2 or w.lag_slope is None:
        return Status.UNKNOWN, "one sample so far; rates need two"
    if not orphan and w.unchanged_for >= stall_seconds:
        return Status.STALLED, (f"committed offset {w.committed} unchanged for {format_seconds(w.unchanged_for)} "
                                f"with lag {w.lag}")
    if (steady := _keeping_up(w)) is not None:
        return Status.OK, steady
    if w.lag_slope < 0:
        return Status.DRAINING, f"lag falling {-w.lag_slope:.1f}/s"
    if w.min_lag == 0 and w.committed_moved:
        return Status.OK, "keeping up: lag reached 0 within the window"
    if not w.committed_moved:
        return Status.GROWING, f"lag not decreasing: no commit for {format_seconds(w.unchanged_for)}"
    return Status.GROWING, f"lag not decreasing (+{w.lag_slope:.1f}/s)"


def _keeping_up(w: PartitionWindow) -> str | None:
    """A consumer that keeps pace with a steady producer, committing every few seconds, never shows a
    lag of 0 to a sampler: its lag saw-tooths around a small value. That is OK, not DRAINING or
    GROWING, when the lag is flat (falling by under 10% of the consumption rate; rising within the
    fit's noise or under 10%) and small (under KEEP_UP_SECONDS of the consumer's own throughput).
    Returns the reason, or None."""
    rate, slope, lag = w.consume_rate, w.lag_slope, w.lag
    if not w.committed_moved or rate is None or rate <= 0 or slope is None or lag is None:
        return None
    # Falling faster than FLAT_FRACTION of consumption is draining whatever the noise (a consumer taking
    # partitions in turn drains in steps: noisy, but its ETA is what the SRE wants); rising is forgiven
    # within the fit's noise (the saw-tooth of periodic commits fits a small positive slope at some phases).
    noise = 2 * w.lag_slope_stderr if w.lag_slope_stderr is not None else 0.0
    if slope < -FLAT_FRACTION * rate or slope > max(noise, FLAT_FRACTION * rate) or lag > KEEP_UP_SECONDS * rate:
        return None
    return f"keeping up: lag {lag} steady, {lag / rate:.1f} s of consumption"


def group_status(partitions: Sequence[tuple[str, Status, str]], member_count: int) -> tuple[Status, str]:
    """The worst partition decides; the reason names it and how many share its status."""
    if not partitions:
        return Status.OK, "no partitions: the group has no commits and no assignment"
    for status in SEVERITY:
        hits = [(name, reason) for name, s, reason in partitions if s is status]
        if not hits:
            continue
        if status is Status.OK:
            suffix = "; no active members" if member_count == 0 else ""
            return status, f"all {len(partitions)} partitions OK{suffix}"
        name, reason = hits[0]
        return status, f"{len(hits)} of {len(partitions)} partitions {status.value}; {name}: {reason}"
    raise AssertionError("unreachable: SEVERITY covers every status")
