"""The drain evaluator on synthetic sample series: status rules, goals, outcomes. No Kafka."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafka_sre_tui.engine.drain import Assessment, DrainGoal, DrainTracker, Outcome, Status, TrackerSettings
from kafka_sre_tui.engine.drain.samples import GroupSample, PartitionSample, RecordAt
from kafka_sre_tui.engine.errors import ConfigError

EPOCH = 1_700_000_000.0
STEP = 1.0  # seconds between samples


def series(end: Callable[[float], int], committed: Callable[[float], int | None],
           members: Callable[[float], int] = lambda t: 1, partitions: int = 1,
           **extra: object) -> Iterator[GroupSample]:
    """Samples every STEP s of a group whose every partition has these end and committed offsets."""
    t = 0.0
    while True:
        parts = tuple(PartitionSample("orders", p, end(t), committed(t), f"m{p}" if members(t) else None, **extra)  # type: ignore[arg-type]
                      for p in range(partitions))
        yield GroupSample("g", EPOCH + t, "Stable" if members(t) else "Empty", members(t), parts)
        t += STEP


def run(samples: Iterator[GroupSample], seconds: float, goal: DrainGoal | None = None,
        **kw: float) -> list[Assessment]:
    """Feed the samples of the first ``seconds`` (or until an outcome) to a fresh tracker."""
    tracker = DrainTracker(TrackerSettings(**kw), goal)  # type: ignore[arg-type]
    out = []
    for s in samples:
        if s.at - EPOCH > seconds + 1e-9:
            break
        out.append(tracker.observe(s))
        if out[-1].outcome:
            break
    return out


def test_draining_consumer_gets_an_accurate_eta_and_drains() -> None:
    # 2000 behind, producing 20/s, consuming 120/s: drained at t = 20
    out = run(series(lambda t: int(2000 + 20 * t), lambda t: min(int(120 * t), int(2000 + 20 * t))), 40,
              DrainGoal(max_lag=0, hold_samples=2))
    five = out[5]
    assert five.status is Status.DRAINING and "lag falling" in five.reason
    assert five.eta.seconds is not None and math.isclose(five.eta.seconds, 20 - 5, rel_tol=0.05)
    assert math.isclose(five.production_rate or 0, 20, rel_tol=0.05)
    assert math.isclose(five.consumption_rate or 0, 120, rel_tol=0.05)
    assert out[-1].outcome is Outcome.DRAINED and out[-1].at - EPOCH == 21  # lag 0 at 20, held at 21
    assert out[-1].status is Status.OK


def test_idle_topic_with_no_lag_is_ok_not_stalled() -> None:
    out = run(series(lambda t: 500, lambda t: 500), 30, DrainGoal(max_lag=0, hold_samples=100), stall_seconds=5)
    assert {a.status for a in out} == {Status.OK}
    assert out[-1].reason == "all 1 partitions OK" and out[-1].partitions[0].reason.startswith("idle")
    assert out[-1].eta.describe() == "drained"


def test_members_that_stop_committing_grow_then_stall() -> None:
    out = run(series(lambda t: 1000 + 10 * int(t), lambda t: 400), 30, DrainGoal(max_lag=0), stall_seconds=10)
    assert out[3].status is Status.GROWING and "no commit for" in out[3].reason
    assert out[-1].status is Status.STALLED and out[-1].outcome is Outcome.STALLED
    assert out[-1].at - EPOCH == 10
    assert "committed offset 400 unchanged for 10 s" in (out[-1].outcome_reason or "")
    assert out[-1].eta.describe() == "not draining"


def test_no_members_is_stopped_and_times_out() -> None:
    out = run(series(lambda t: 1000, lambda t: 400, members=lambda t: 0), 60,
              DrainGoal(max_lag=0, timeout_seconds=7.5), stall_seconds=2)
    assert all(a.status is Status.STOPPED for a in out)  # stopped, never "stalled": no member to blame
    assert out[-1].outcome is Outcome.TIMED_OUT and out[-1].at - EPOCH == 8
    assert out[-1].eta.describe() == "not draining" and "no active members" in out[-1].reason


def test_a_standalone_consumer_committing_without_members_is_not_stopped() -> None:
    out = run(series(lambda t: 1000, lambda t: int(100 * t), members=lambda t: 0), 5)
    assert out[-1].status is Status.DRAINING


def test_producer_faster_than_consumer_is_growing_and_not_draining() -> None:
    out = run(series(lambda t: int(100 + 200 * t), lambda t: int(50 * t)), 10)
    assert out[-1].status is Status.GROWING and "lag not decreasing" in out[-1].reason
    assert out[-1].eta.describe() == "not draining" and out[-1].eta.seconds is None


def test_consumer_that_keeps_up_is_ok() -> None:
    # commits every 3 s what was produced: lag goes 0, 100, 200, 0, 100, 200, ...
    out = run(series(lambda t: int(100 * t), lambda t: int(100 * (t // 3 * 3))), 20)
    assert out[-1].lag_time is not None
    assert all(a.status is Status.OK for a in out[3:]), [(a.status, a.reason) for a in out]


def test_steady_small_lag_that_never_touches_zero_is_ok() -> None:
    # 200 records/s, commits every 5 s, sampled at 1 s: the lag never reads 0, it saw-tooths 150..950
    # (at most ~5 s of consumption) with no trend
    out = run(series(lambda t: int(200 * t + 150), lambda t: int(200 * (t // 5 * 5))), 40, window_seconds=30)
    assert all(a.status is Status.OK for a in out[12:]), [(a.status, a.reason) for a in out[12:]]
    reason = out[-1].partitions[0].reason
    assert "keeping up" in reason and "s of consumption" in reason, reason
    assert out[-1].total_lag > 0 and out[-1].eta.describe() == "keeping up"  # not "drained" with records behind


def test_a_quick_drain_is_draining_not_keeping_up() -> None:
    # 3,000 behind, producer 60/s, consumer 500/s: the lag is 6 s of consumption but clearly falling
    out = run(series(lambda t: int(3000 + 60 * t), lambda t: int(500 * t)), 5)
    assert out[-1].status is Status.DRAINING, out[-1].reason


def test_a_small_lag_growing_steadily_is_growing() -> None:
    # the consumer reads 80% of what arrives: the lag is small (5 s of consumption) but climbs 40/s
    out = run(series(lambda t: int(200 * t), lambda t: int(160 * t)), 40, window_seconds=30)
    assert out[-1].status is Status.GROWING, out[-1].reason


def test_rewound_offsets_are_reported_and_rates_restart() -> None:
    out = run(series(lambda t: 1000, lambda t: 900 if t < 5 else 100 + 50 * int(t - 5)), 8)
    assert out[5].status is Status.REWOUND and "went back from 900 to 100" in out[5].reason
    assert out[-1].partitions[0].consumption_rate == pytest.approx(50)


def test_first_sample_is_unknown_not_a_guess() -> None:
    [a] = run(series(lambda t: 1000, lambda t: 400), 0)
    assert a.status is Status.UNKNOWN and a.eta.describe() == "unknown"


def test_hold_requires_consecutive_samples() -> None:
    lags = [5, 0, 0, 7, 0, 0, 0, 0]
    out = run(series(lambda t: 1000, lambda t: 1000 - lags[int(t)]), len(lags) - 1,
              DrainGoal(max_lag=0, hold_samples=3))
    assert [a.held for a in out] == [0, 1, 2, 0, 1, 2, 3]
    assert out[-1].outcome is Outcome.DRAINED


def test_partition_limit_and_total_limit_must_both_hold() -> None:
    goal = DrainGoal(max_lag=100, max_partition_lag=30, hold_samples=1)
    [a] = run(series(lambda t: 1000, lambda t: 960, partitions=2), 0, goal)
    assert a.total_lag == 80 and not a.goal_met and "orders-0 lag 40 > 30" in (a.goal_unmet or "")


def test_time_based_goal_uses_lag_in_time_and_refuses_a_lower_bound() -> None:
    goal = DrainGoal(max_lag_seconds=10, hold_samples=1)
    old = RecordAt(400, int((EPOCH - 60) * 1000))
    [a] = run(series(lambda t: 1000, lambda t: 400, record=old), 0, goal)
    assert not a.goal_met and "lag in time" in (a.goal_unmet or "")
    fresh = RecordAt(400, int((EPOCH - 3) * 1000))
    [b] = run(series(lambda t: 1000, lambda t: 400, record=fresh), 0, goal)
    assert b.outcome is Outcome.DRAINED  # 600 records behind but only 3 s: the time goal holds
    [c] = run(series(lambda t: 1000, lambda t: 400), 0, goal)  # no timestamp, nothing sampled before
    assert c.lag_time is not None and c.lag_time.lower_bound and not c.goal_met


def test_transaction_markers_do_not_count_as_lag() -> None:
    [a] = run(series(lambda t: 1001, lambda t: 1000, markers_only=True), 0, DrainGoal(max_lag=0, hold_samples=1))
    assert a.total_lag == 0 and a.outcome is Outcome.DRAINED


def test_records_without_a_commit_block_drained_but_empty_partitions_do_not() -> None:
    goal = DrainGoal(max_lag=0, hold_samples=1)
    [a] = run(series(lambda t: 10, lambda t: None), 0, goal)
    assert not a.goal_met and "has records but no commit" in (a.goal_unmet or "")
    assert a.status is Status.UNKNOWN
    [b] = run(series(lambda t: 0, lambda t: None), 0, goal)
    assert b.outcome is Outcome.DRAINED and b.status is Status.OK


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"max_lag": -1}, "--max-lag must be 0 or more"), ({"timeout_seconds": 0}, "--timeout-seconds"),
    ({"hold_samples": 0}, "--hold"), ({"max_lag_seconds": math.nan}, "--max-lag-seconds")])
def test_bad_goals_are_config_errors(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        DrainGoal(**kwargs)  # type: ignore[arg-type]
    assert DrainGoal().max_lag == 0  # no target: drained means no lag


offsets = st.lists(st.tuples(st.integers(0, 500), st.one_of(st.none(), st.integers(0, 500)), st.integers(0, 2)),
                   min_size=1, max_size=40)


@settings(max_examples=200)
@given(steps=offsets, stall=st.floats(0.5, 20))
def test_any_series_gives_finite_numbers_and_a_reason(steps: list[tuple[int, int | None, int]], stall: float) -> None:
    tracker = DrainTracker(TrackerSettings(window_seconds=5, stall_seconds=stall, history_samples=10),
                           DrainGoal(max_lag=10, timeout_seconds=30))
    end = 0
    for i, (produced, committed, members) in enumerate(steps):
        end += produced
        offset = None if committed is None else min(committed * 3, end)
        part = PartitionSample("t", 0, end, offset, "m" if members else None)
        a = tracker.observe(GroupSample("g", EPOCH + i * 0.7, "Stable", members, (part,)))
        assert a.reason and a.status in Status
        for value in (a.production_rate, a.consumption_rate, a.eta.seconds, a.eta.low, a.eta.high,
                      a.lag_time.seconds if a.lag_time else None):
            assert value is None or math.isfinite(value)
        assert a.eta.seconds is None or a.eta.seconds >= 0
        assert a.lag_time is None or a.lag_time.seconds >= 0


def test_partitions_waiting_their_turn_at_a_busy_member_are_draining_not_stalled() -> None:
    # one member reads partition 0 (1000 behind) then partition 1 (500 behind) at 100/s, nothing produced
    def samples() -> Iterator[GroupSample]:
        for i in range(14):
            t = float(i)
            done = 100 * i
            parts = (PartitionSample("orders", 0, 1000, min(done, 1000), "m1"),
                     PartitionSample("orders", 1, 500, max(0, done - 1000), "m1"))
            yield GroupSample("g", EPOCH + t, "Stable", 1, parts)

    out = run(samples(), 13, DrainGoal(max_lag=0), stall_seconds=5)
    at8 = out[8]
    assert at8.partitions[1].status is Status.DRAINING and "waiting its turn" in at8.partitions[1].reason
    assert at8.status is Status.DRAINING and at8.outcome is None  # not STALLED although still for 8 s
    assert at8.eta.seconds == pytest.approx((1500 - 800) / 100, rel=0.05)  # the member's lag / its rate
    assert out[3].eta.seconds == pytest.approx(12, rel=0.05)


def test_a_member_that_stops_on_every_partition_stalls() -> None:
    def samples() -> Iterator[GroupSample]:
        for i in range(10):
            parts = (PartitionSample("orders", 0, 1000, 200, "m1"), PartitionSample("orders", 1, 500, 100, "m1"))
            yield GroupSample("g", EPOCH + i, "Stable", 1, parts)

    out = run(samples(), 9, DrainGoal(max_lag=0), stall_seconds=5)
    assert out[-1].outcome is Outcome.STALLED and out[-1].at - EPOCH == 5
