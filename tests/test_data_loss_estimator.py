"""Time to data loss (pure estimator): lost records counted exactly, never a negative or invented ETA,
older unread records never get more time, and the unknowable is said to be unknown."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kafka_sre_tui.engine.drain.data_loss import LossStatus, RetentionView, estimate

NOW = 1_800_000_000_000
DAY_MS = 86_400_000


def view(**kw: object) -> RetentionView:
    base: dict[str, object] = dict(committed=100, log_start=0, end_offset=200, committed_timestamp_ms=NOW,
                                   retention_ms=7 * DAY_MS, retention_bytes=-1, size_bytes=None,
                                   growth_bytes_per_second=None, log_start_rate=None)
    base.update(kw)
    return RetentionView(**base)  # type: ignore[arg-type]


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(1, 10**6))
def test_committed_below_log_start_counts_the_lost_records(committed: int, start: int, lag: int) -> None:
    result = estimate(view(committed=committed, log_start=start, end_offset=max(committed, start) + lag), NOW)
    if committed < start:
        assert result.status == LossStatus.LOST and result.records_lost == start - committed
        assert result.eta_seconds == 0 and "auto.offset.reset" in result.reason
    else:
        assert result.records_lost == 0 and result.status != LossStatus.LOST


@given(st.integers(0, 30 * DAY_MS), st.integers(0, 30 * DAY_MS), st.integers(1, 30 * DAY_MS),
       st.none() | st.floats(0.001, 1e6))
def test_an_older_unread_record_never_has_more_time_and_eta_is_never_negative(
        age1: int, age2: int, retention: int, log_start_rate: float | None) -> None:
    older, newer = max(age1, age2), min(age1, age2)
    a = estimate(view(committed_timestamp_ms=NOW - older, retention_ms=retention, log_start_rate=log_start_rate), NOW)
    b = estimate(view(committed_timestamp_ms=NOW - newer, retention_ms=retention, log_start_rate=log_start_rate), NOW)
    assert a.eta_seconds is not None and b.eta_seconds is not None
    assert 0 <= a.eta_seconds <= b.eta_seconds
    assert a.eta_seconds <= max(retention / 1000 - older / 1000, 0) + 1e-6


@given(st.integers(1, 10**12), st.integers(1, 10**12))
def test_size_retention_without_growth_is_unknown_not_guessed(limit: int, size: int) -> None:
    result = estimate(view(retention_ms=-1, retention_bytes=limit, size_bytes=size, committed=0, log_start=0,
                           end_offset=10), NOW)
    if size >= limit:  # everything on disk is unread and already over the limit
        assert result.status == LossStatus.AT_RISK and result.eta_seconds == 0
    else:
        assert result.status == LossStatus.UNKNOWN and result.eta_seconds is None
        assert "no growth seen yet" in result.reason


def test_reasoning_in_words() -> None:
    result = estimate(view(committed_timestamp_ms=NOW - (6 * DAY_MS + 21 * 3_600_000)), NOW)
    assert result.status == LossStatus.AT_RISK
    assert result.reason == "retention.ms 7 d 00 h; oldest unread record is 6 d 21 h old → about 3 h 00 m left"
    assert estimate(view(retention_ms=-1), NOW).status == LossStatus.SAFE
    assert estimate(view(committed_timestamp_ms=NOW - DAY_MS), NOW).status == LossStatus.SAFE  # 6 days left
    grows = estimate(view(retention_ms=-1, retention_bytes=1000, size_bytes=400, committed=100, log_start=0,
                          end_offset=200, growth_bytes_per_second=10.0), NOW)
    assert grows.eta_seconds == 80.0 and "growing 10 B/s" in grows.reason  # (1000 - 200 unread) / 10
    assert estimate(view(committed=200), NOW).status == LossStatus.NONE
