"""The drain monitor: sample a group at an interval, judge each sample, report, stop on an outcome.

``drain`` is ``monitor_group`` with a goal; ``lag --watch`` is the same without one. Progress goes
to ``emit`` (an :class:`Assessment` per sample, a :class:`SampleFailed` when Kafka did not answer);
the return value is a frozen :class:`MonitorResult`. Cancelling the task closes what it opened.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from kafka_sre_tui.engine.drain.assessment import Assessment, Outcome
from kafka_sre_tui.engine.drain.sampler import GroupSampler
from kafka_sre_tui.engine.drain.samples import GroupSample
from kafka_sre_tui.engine.drain.strategy import DrainGoal
from kafka_sre_tui.engine.drain.tracker import DrainTracker, TrackerSettings
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.input_checks import check_seconds
from kafka_sre_tui.engine.kafka.session import KafkaSession

MIN_INTERVAL = 0.1


@dataclass(frozen=True)
class MonitorSettings:
    interval_seconds: float = 2.0
    tracker: TrackerSettings = field(default_factory=TrackerSettings)
    max_samples: int | None = None  # stop after this many samples (a watch with --count)
    read_timestamps: bool = True  # read record timestamps for lag in time (else interpolate)

    def __post_init__(self) -> None:
        check_seconds("--interval", self.interval_seconds, minimum=MIN_INTERVAL)
        if self.max_samples is not None and self.max_samples < 1:
            raise ConfigError(f"--count must be 1 or more, got {self.max_samples}")


@dataclass(frozen=True)
class SampleFailed:
    """Kafka did not answer one sample (a retriable error: a broker restarting); the monitor goes on."""

    error: str
    at: float


Event = Assessment | SampleFailed


@dataclass(frozen=True)
class MonitorResult:
    outcome: Outcome | None  # None: a watch that ended after max_samples
    reason: str
    samples: int
    elapsed_seconds: float
    last: Assessment | None
    timestamp_lookups: int = 0  # partitions whose record timestamp was fetched, over the whole run
    timestamp_note: str | None = None  # set when record timestamps could not be read: lag in time interpolated


class Sampler(Protocol):
    async def sample(self) -> GroupSample: ...
    async def close(self) -> None: ...


async def monitor_group(
    session: KafkaSession,
    group_id: str,
    emit: Callable[[Event], None],
    *,
    goal: DrainGoal | None = None,
    settings: MonitorSettings | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    sampler: Sampler | None = None,
) -> MonitorResult:
    settings = settings or MonitorSettings()
    own = sampler or GroupSampler(session, group_id, read_timestamps=settings.read_timestamps, clock=clock,
                                  timestamp_budget_seconds=min(1.0, max(0.2, settings.interval_seconds / 2)))
    try:
        return await _run(own, group_id, emit, goal, settings, clock, sleep)
    finally:
        await own.close()


async def _run(sampler: Sampler, group_id: str, emit: Callable[[Event], None], goal: DrainGoal | None,
               settings: MonitorSettings, clock: Callable[[], float],
               sleep: Callable[[float], Awaitable[None]]) -> MonitorResult:
    started = clock()
    tracker = DrainTracker(settings.tracker, goal, started_at=started)
    deadline = started + goal.timeout_seconds if goal and goal.timeout_seconds is not None else None
    count, last, error = 0, None, None

    def result(outcome: Outcome | None, reason: str) -> MonitorResult:
        stamps = getattr(sampler, "timestamps", None)
        return MonitorResult(outcome, reason, count, clock() - started, last,
                             getattr(stamps, "fetched", 0), getattr(stamps, "failed", None))

    while True:
        tick = clock()
        try:
            sample = await sampler.sample()
        except KsreError as exc:
            if not exc.retriable or count == 0:
                raise
            error = str(exc)
            emit(SampleFailed(error, clock()))
        else:
            error = None
            last = tracker.observe(sample)
            count += 1
            emit(last)
            if last.outcome is not None:
                return result(last.outcome, last.outcome_reason or last.outcome.value)
            if settings.max_samples is not None and count >= settings.max_samples:
                return result(None, f"{count} samples taken")
        now = clock()
        if deadline is not None and now >= deadline and error is not None:
            return result(Outcome.TIMED_OUT, f"not drained after {goal.timeout_seconds if goal else 0:g} s: "
                          f"the last sample failed: {error}")
        wait = tick + settings.interval_seconds - now
        if deadline is not None:
            wait = min(wait, deadline - now)
        await sleep(max(wait, 0.0))


__all__ = ["MonitorResult", "MonitorSettings", "SampleFailed", "monitor_group"]
