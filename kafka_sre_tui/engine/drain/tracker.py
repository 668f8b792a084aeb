"""The drain evaluator: feed it samples in time order, get an :class:`Assessment` per sample.

Pure: no Kafka, no I/O, no clock of its own (time comes with the samples), so recorded or
synthetic series test it exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import pairwise

from kafka_sre_tui.engine.drain import eta as eta_mod
from kafka_sre_tui.engine.drain import lag_time
from kafka_sre_tui.engine.drain.assessment import Assessment, Outcome, PartitionView
from kafka_sre_tui.engine.drain.fit import Fit, after_last_drop, fit_line
from kafka_sre_tui.engine.drain.samples import GroupSample, History, PartitionSample
from kafka_sre_tui.engine.drain.status import PartitionWindow, Status, classify, group_status
from kafka_sre_tui.engine.drain.strategy import DrainGoal, PartitionState, unmet
from kafka_sre_tui.engine.drain.units import Judged, units, waiting_turn
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.input_checks import check_seconds
from kafka_sre_tui.engine.models import TopicPartition

TREND_SAMPLES = 16


@dataclass(frozen=True)
class TrackerSettings:
    window_seconds: float = 30.0  # rates and status look this far back
    stall_seconds: float = 60.0  # committed offset unchanged this long with lag: STALLED
    history_samples: int = 600  # bounded memory; also how far back interpolated lag in time can see

    def __post_init__(self) -> None:
        check_seconds("--window-seconds", self.window_seconds)
        check_seconds("--stall-seconds", self.stall_seconds)
        if self.history_samples < 2:
            raise ConfigError(f"history must keep at least 2 samples, got {self.history_samples}")


class DrainTracker:
    def __init__(self, settings: TrackerSettings | None = None, goal: DrainGoal | None = None,
                 started_at: float | None = None) -> None:
        self.settings = settings or TrackerSettings()
        self.goal = goal
        self.history = History(self.settings.history_samples)
        self._started_at = started_at
        self._since: dict[TopicPartition, tuple[int | None, float]] = {}  # committed value, first seen at
        self._held = 0
        self._count = 0

    def observe(self, sample: GroupSample) -> Assessment:
        self.history.append(sample)
        self._count += 1
        if self._started_at is None:
            self._started_at = sample.at
        window = self.history.window(self.settings.window_seconds)
        first = [self._partition(sample, p, window) for p in sample.partitions]
        judged = [j for _, j in first]
        by_unit = units(judged)
        for i, j in enumerate(judged):
            turn = waiting_turn(j, by_unit[j.unit], sample.partitions[i].assigned)
            if turn:
                judged[i] = replace(j, status=turn[0], reason=turn[1])
        by_unit = units(judged)
        views = tuple(replace(v, status=j.status, reason=j.reason, eta=eta_mod.partition_eta(by_unit[j.unit].drain))
                      for (v, _), j in zip(first, judged, strict=True))
        ranked = sorted(views, key=lambda v: -(v.lag or 0))
        status, reason = group_status([(f"{v.topic}-{v.partition}", v.status, v.reason) for v in ranked],
                                      sample.member_count)
        elapsed = sample.at - self._started_at
        times = [v.lag_time for v in views if v.lag_time is not None]
        oldest = None
        if times:
            worst = max(times, key=lambda t: t.seconds)
            oldest = lag_time.LagTime(worst.seconds, any(t.lower_bound for t in times), worst.method)
        base = Assessment(
            group_id=sample.group_id, sample_number=self._count, at=sample.at, elapsed=elapsed,
            state=sample.state, member_count=sample.member_count, status=status, reason=reason,
            total_lag=sample.total_lag, partitions_without_commit=sample.partitions_without_commit,
            production_rate=_sum(v.production_rate for v in views),
            consumption_rate=_sum(v.consumption_rate for v in views),
            lag_time=oldest, eta=eta_mod.keeping_up(eta_mod.group_eta([u.drain for u in by_unit.values()]),
                                                    sample.total_lag),
            trend=tuple(self.history.total_lags(TREND_SAMPLES)), partitions=views, group_type=sample.group_type)
        return self._judge(base, elapsed)

    def _judge(self, a: Assessment, elapsed: float) -> Assessment:
        goal = self.goal
        if goal is None:
            return a
        why = unmet(goal, [PartitionState(f"{v.topic}-{v.partition}", v.lag, v.end_offset, v.lag_time)
                           for v in a.partitions])
        self._held = self._held + 1 if why is None else 0
        outcome, outcome_reason = None, None
        if self._held >= goal.hold_samples:
            outcome, outcome_reason = Outcome.DRAINED, f"{goal.describe()}: met after {elapsed:.1f} s"
        elif goal.stop_when_stalled and a.status is Status.STALLED:
            outcome, outcome_reason = Outcome.STALLED, f"no progress: {a.reason}"
        elif goal.timeout_seconds is not None and elapsed >= goal.timeout_seconds:
            outcome, outcome_reason = Outcome.TIMED_OUT, (f"not drained after {goal.timeout_seconds:g} s: "
                                                          f"{why or 'goal not held long enough'}")
        return replace(a, goal_met=why is None, goal_unmet=why, held=self._held, outcome=outcome,
                        outcome_reason=outcome_reason)

    def _partition(self, sample: GroupSample, p: PartitionSample,
                   window: list[GroupSample]) -> tuple[PartitionView, Judged]:
        tp = p.tp
        seen = self._since.get(tp)
        if seen is None or seen[0] != p.committed:
            self._since[tp] = seen = (p.committed, sample.at)
        points = [(s.at, s.by_tp[tp]) for s in window if tp in s.by_tp]
        committed = [(t, float(q.committed)) for t, q in points if q.committed is not None]
        rewound = _last_drop(committed)
        committed_after = after_last_drop(committed)
        since = committed_after[0][0] if committed_after else sample.at
        lags = [(t, float(q.lag)) for t, q in points if q.lag is not None and t >= since]
        ends = after_last_drop([(t, float(q.end_offset)) for t, q in points if q.end_offset is not None])
        production, consumption, lag_fit = fit_line(ends), fit_line(committed_after), fit_line(lags)
        name = f"{p.topic}-{p.partition}"
        w = PartitionWindow(
            name=name, lag=p.lag, committed=p.committed, end_offset=p.end_offset,
            samples=len(lags), committed_moved=len({c for _, c in committed_after}) > 1,
            end_moved=len({e for _, e in ends}) > 1, rewound=rewound,
            min_lag=int(min(v for _, v in lags)) if lags else None,
            lag_slope=lag_fit.slope if lag_fit else None, unchanged_for=sample.at - seen[1],
            member_count=sample.member_count, assigned=p.assigned,
            lag_slope_stderr=lag_fit.stderr if lag_fit else None, consume_rate=_slope(consumption),
            pending=p.pending)
        status, reason = classify(w, self.settings.stall_seconds)
        view = PartitionView(
            topic=p.topic, partition=p.partition, end_offset=p.end_offset, committed=p.committed, lag=p.lag,
            status=status, reason=reason, production_rate=_slope(production), consumption_rate=_slope(consumption),
            lag_time=self._lag_time(sample.at, p), eta=eta_mod.Eta(eta_mod.UNKNOWN))
        # a share partition is read by many members at once: it is a unit of its own
        unit = name if sample.group_type == "share" else p.member_id or name
        return view, Judged(unit, p.lag, status, reason, lag_fit)

    def _lag_time(self, now: float, p: PartitionSample) -> lag_time.LagTime | None:
        if p.lag is None or p.committed is None:
            return None
        if p.lag == 0:
            return lag_time.ZERO
        if p.record is not None:
            return lag_time.from_record(now, p.committed, p.record)
        return lag_time.interpolate(now, p.committed, self.history.ends(p.tp))



def _last_drop(points: list[tuple[float, float]]) -> tuple[int, int] | None:
    drop = None
    for (_, a), (_, b) in pairwise(points):
        if b < a:
            drop = (int(a), int(b))
    return drop


def _slope(fit: Fit | None) -> float | None:
    return None if fit is None else fit.slope


def _sum(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None
