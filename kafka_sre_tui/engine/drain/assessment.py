"""What the drain monitor concludes after each sample: frozen, plain, JSON-friendly."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kafka_sre_tui.engine.drain.eta import Eta
from kafka_sre_tui.engine.drain.lag_time import LagTime
from kafka_sre_tui.engine.drain.status import Status


class Outcome(StrEnum):
    DRAINED = "drained"
    TIMED_OUT = "timed_out"
    STALLED = "stalled"


@dataclass(frozen=True)
class PartitionView:
    topic: str
    partition: int
    end_offset: int | None
    committed: int | None
    lag: int | None
    status: Status
    reason: str
    production_rate: float | None  # records/s, end-offset slope
    consumption_rate: float | None  # records/s, committed-offset slope
    lag_time: LagTime | None
    eta: Eta


@dataclass(frozen=True)
class Assessment:
    group_id: str
    sample_number: int  # 1 for the first sample
    at: float
    elapsed: float  # seconds since the monitor started
    state: str  # the group's state as Kafka reports it (Stable, Empty, ...)
    member_count: int
    status: Status
    reason: str
    total_lag: int
    partitions_without_commit: int
    production_rate: float | None
    consumption_rate: float | None
    lag_time: LagTime | None  # the oldest partition's
    eta: Eta
    trend: tuple[int, ...]  # recent total lags, oldest first
    partitions: tuple[PartitionView, ...]
    goal_met: bool | None = None  # None: no goal (a watch)
    goal_unmet: str | None = None  # why this sample does not meet the goal
    held: int = 0  # consecutive samples meeting the goal
    outcome: Outcome | None = None
    outcome_reason: str | None = None
    group_type: str = "classic"  # classic, consumer, share or streams


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _lag_time_json(t: LagTime | None) -> dict[str, Any]:
    if t is None:
        return {"lag_seconds": None, "lag_seconds_is_lower_bound": False, "lag_seconds_method": None}
    return {"lag_seconds": round(t.seconds, 3), "lag_seconds_is_lower_bound": t.lower_bound,
            "lag_seconds_method": t.method}


def _eta_json(e: Eta) -> dict[str, Any]:
    def r(v: float | None) -> float | None:
        return None if v is None else round(v, 3)
    return {"eta": e.state, "eta_seconds": r(e.seconds), "eta_low_seconds": r(e.low),
            "eta_high_seconds": r(e.high)}


def assessment_json(a: Assessment) -> dict[str, Any]:
    """One JSON-lines record per sample (snake_case keys); see the README for the fields."""
    return {
        "group_id": a.group_id, "sample": a.sample_number, "time": round(a.at, 3),
        "elapsed_seconds": round(a.elapsed, 3), "type": a.group_type, "state": a.state, "member_count": a.member_count,
        "status": a.status.value, "reason": a.reason, "total_lag": a.total_lag,
        "partitions_without_commit": a.partitions_without_commit,
        "production_rate": _rate(a.production_rate), "consumption_rate": _rate(a.consumption_rate),
        **_lag_time_json(a.lag_time), **_eta_json(a.eta),
        "goal_met": a.goal_met, "goal_unmet": a.goal_unmet, "held_samples": a.held,
        "outcome": a.outcome.value if a.outcome else None, "outcome_reason": a.outcome_reason,
        "partitions": [{
            "topic": p.topic, "partition": p.partition, "end_offset": p.end_offset,
            "committed_offset": p.committed, "lag": p.lag, "status": p.status.value, "reason": p.reason,
            "production_rate": _rate(p.production_rate), "consumption_rate": _rate(p.consumption_rate),
            **_lag_time_json(p.lag_time), **_eta_json(p.eta)} for p in a.partitions],
    }
