"""Drain units: the partitions one member consumes share its capacity.

A consumer often reads its partitions one after another, so a partition can sit still while its
member drains the others: that partition is waiting its turn, not stalled, and the time to drain
is its member's total lag over its member's total net rate. Partitions no member owns are units of
their own, and so is every partition of a share group (many members read one share partition, none
owns it). The slowest unit decides the group's ETA.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kafka_sre_tui.engine.drain.eta import PartitionDrain
from kafka_sre_tui.engine.drain.fit import Fit
from kafka_sre_tui.engine.drain.status import Status

CANNOT_DRAIN = (Status.STOPPED, Status.STALLED)


@dataclass(frozen=True)
class Judged:
    """One partition after the status rules: what the unit pass needs."""

    unit: str  # the member id, or "topic-partition" when no member owns it
    lag: int | None
    status: Status
    reason: str
    lag_fit: Fit | None


@dataclass(frozen=True)
class Unit:
    drain: PartitionDrain
    lagging: int  # partitions with lag that hold the unit back


def units(partitions: Sequence[Judged]) -> dict[str, Unit]:
    grouped: dict[str, list[Judged]] = {}
    for j in partitions:
        grouped.setdefault(j.unit, []).append(j)
    return {name: _unit(members) for name, members in grouped.items()}


def _unit(partitions: Sequence[Judged]) -> Unit:
    lagging = [j for j in partitions if j.lag and j.status is not Status.OK]
    if not lagging:
        return Unit(PartitionDrain(0, None, None, True), 0)
    lag = sum(j.lag or 0 for j in lagging)
    fits = [j.lag_fit for j in lagging]
    if any(f is None for f in fits):
        return Unit(PartitionDrain(lag, None, None, _can_drain(lagging)), len(lagging))
    net = -sum(f.slope for f in fits if f is not None)
    errors = [f.stderr for f in fits if f is not None]
    stderr = math.sqrt(sum(e * e for e in errors if e is not None)) if all(e is not None for e in errors) else None
    return Unit(PartitionDrain(lag, net, stderr, _can_drain(lagging)), len(lagging))


def _can_drain(lagging: Sequence[Judged]) -> bool:
    return not any(j.status in CANNOT_DRAIN for j in lagging)


def waiting_turn(j: Judged, unit: Unit, member_owned: bool) -> tuple[Status, str] | None:
    """A partition of a member that drains overall, itself not moving: DRAINING, waiting its turn."""
    net = unit.drain.net_rate
    if (member_owned and unit.lagging > 1 and j.status in (Status.GROWING, Status.STALLED)
            and net is not None and net > 0):
        return Status.DRAINING, (f"waiting its turn: its member drains {net:.1f}/s over "
                                 f"{unit.lagging} lagging partitions")
    return None

