"""Pure estimators of the drain monitor: least-squares rates, lag in time, ETA. No Kafka."""

from __future__ import annotations

import math

from hypothesis import assume, given
from hypothesis import strategies as st

from kafka_sre_tui.engine.drain.eta import DRAINED, DRAINING, NOT_DRAINING, UNKNOWN, PartitionDrain, group_eta
from kafka_sre_tui.engine.drain.fit import after_last_drop, fit_line
from kafka_sre_tui.engine.drain.lag_time import (
    CAUGHT_UP,
    INTERPOLATED,
    TIMESTAMP,
    format_seconds,
    from_record,
    interpolate,
)
from kafka_sre_tui.engine.drain.samples import RecordAt

EPOCH = 1_700_000_000.0


@given(slope=st.floats(-1e6, 1e6), intercept=st.integers(0, 2**62), n=st.integers(2, 50),
       step=st.floats(0.05, 60))
def test_fit_recovers_a_straight_line(slope: float, intercept: int, n: int, step: float) -> None:
    points = [(EPOCH + i * step, intercept + slope * i * step) for i in range(n)]
    fit = fit_line(points)
    assert fit is not None and fit.points == n
    assert math.isclose(fit.slope, slope, rel_tol=1e-6, abs_tol=1e-3 + abs(intercept) * 1e-12 / step)
    assert fit.stderr is None if n == 2 else fit.stderr is not None and fit.stderr >= 0


def test_fit_is_robust_to_one_late_commit() -> None:
    # a consumer doing 100/s that commits every second, sampled every 0.25 s: a step function
    points = [(EPOCH + i * 0.25, 100.0 * (i // 4)) for i in range(40)]
    fit = fit_line(points)
    assert fit is not None and 90 < fit.slope < 110  # a two-point difference would say 0 or 400


def test_fit_needs_two_points_spread_in_time() -> None:
    assert fit_line([]) is None
    assert fit_line([(EPOCH, 5.0)]) is None
    assert fit_line([(EPOCH, 5.0), (EPOCH, 9.0)]) is None


def test_rates_restart_after_an_offset_reset() -> None:
    assert after_last_drop([(1, 10), (2, 20), (3, 5), (4, 8)]) == [(3, 5), (4, 8)]
    assert after_last_drop([(1, 10), (2, 20)]) == [(1, 10), (2, 20)]


def test_interpolation_on_a_steady_producer_is_exact() -> None:
    ends = [(EPOCH + t, 100 + 50 * t) for t in range(11)]  # 50 records/s for 10 s
    now = EPOCH + 10
    got = interpolate(now, 349, ends)  # record 349 was appended when the end passed 350: at t = 5
    assert got.method == INTERPOLATED and not got.lower_bound
    assert math.isclose(got.seconds, 5.0)


def test_interpolation_never_extrapolates() -> None:
    ends = [(EPOCH + t, 1000 + 10 * t) for t in range(5)]
    got = interpolate(EPOCH + 4, 10, ends)  # appended long before the first sample
    assert got.lower_bound and got.seconds == 4.0 and got.describe() == "≥ 4.0 s"
    assert interpolate(EPOCH + 4, 1040, ends).seconds == 0.0  # caught up


@given(ends=st.lists(st.tuples(st.floats(0, 1e5), st.integers(0, 10**12)), min_size=0, max_size=30),
       committed=st.integers(0, 10**12), later=st.floats(0, 1e4))
def test_interpolation_is_never_nan_nor_beyond_the_data(ends: list[tuple[float, int]], committed: int,
                                                        later: float) -> None:
    ends = sorted(ends)
    now = (ends[-1][0] if ends else 0.0) + later
    got = interpolate(now, committed, ends)
    assert math.isfinite(got.seconds) and got.seconds >= 0
    if ends:
        assert got.seconds <= now - ends[0][0] + 1e-6  # never older than the data it is based on


def test_lag_time_from_the_record_timestamp() -> None:
    now = EPOCH + 100
    exact = from_record(now, 42, RecordAt(42, int((EPOCH + 70) * 1000)))
    assert (exact.seconds, exact.lower_bound, exact.method) == (30.0, False, TIMESTAMP)
    assert from_record(now, 42, RecordAt(45, int((EPOCH + 70) * 1000))).lower_bound  # the record at 42 is gone
    assert from_record(now, 42, RecordAt(42, int((now + 5) * 1000))).seconds == 0.0  # a producer clock ahead


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (0.42, 12.4, 200, 7500, 3 * 86400 + 4 * 3600)] == [
        "0.4 s", "12 s", "3 m 20 s", "2 h 05 m", "3 d 04 h"]
    assert CAUGHT_UP == "caught up"


def test_eta_the_slowest_partition_decides() -> None:
    eta = group_eta([PartitionDrain(1000, 100.0, 5.0, True), PartitionDrain(300, 10.0, 1.0, True),
                     PartitionDrain(0, None, None, True)])
    assert eta.state == DRAINING and eta.seconds == 30.0
    assert eta.low is not None and eta.high is not None and eta.low < 30.0 < eta.high
    assert eta.describe().startswith("~30 s (")


def test_eta_not_draining_and_unknown() -> None:
    assert group_eta([PartitionDrain(10, -5.0, 1.0, True)]).describe() == NOT_DRAINING
    assert group_eta([PartitionDrain(10, 0.0, 0.0, True)]).state == NOT_DRAINING
    assert group_eta([PartitionDrain(10, 50.0, 1.0, False)]).state == NOT_DRAINING  # stopped
    assert group_eta([PartitionDrain(10, None, None, True)]).state == UNKNOWN
    assert group_eta([]).state == DRAINED
    assert group_eta([PartitionDrain(10**12, 5e-320, None, True)]).state == NOT_DRAINING  # no inf


def test_eta_range_has_no_upper_end_when_the_rate_is_that_uncertain() -> None:
    eta = group_eta([PartitionDrain(100, 1.0, 2.0, True)])
    assert eta.state == DRAINING and eta.high is None and not eta.bounded and eta.describe().endswith("–∞)")


@given(lag=st.integers(0, 10**12), net=st.floats(-1e9, 1e9), err=st.one_of(st.none(), st.floats(0, 1e9)))
def test_eta_is_finite_or_says_why_not(lag: int, net: float, err: float | None) -> None:
    assume(net != 0.0 or lag == 0)
    eta = group_eta([PartitionDrain(lag, net, err, True)])
    if eta.state == DRAINING:
        assert eta.seconds is not None and math.isfinite(eta.seconds) and eta.seconds >= 0
        assert eta.low is None or eta.low <= eta.seconds
        assert eta.high is None or eta.high >= eta.seconds
    else:
        assert eta.state in (DRAINED, NOT_DRAINING)
