"""The reset arithmetic (pure): every new offset lies within the log, skips and shifts move from the commit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.group_offsets.reset import (
    EARLIEST_SPEC,
    LATEST_SPEC,
    OFFSET,
    SHIFT,
    SKIP,
    TIME,
    PartitionMove,
    ResetTarget,
    new_offset,
)

offsets = st.integers(min_value=0, max_value=10**12)


@given(offsets, offsets, st.none() | offsets, st.integers(-10**6, 10**6), st.none() | offsets)
def test_new_offset_stays_within_the_log(a: int, b: int, current: int | None, value: int, at: int | None) -> None:
    earliest, latest = min(a, b), max(a, b)
    for kind in (EARLIEST_SPEC, LATEST_SPEC, TIME, OFFSET, SHIFT):
        new = new_offset(ResetTarget(kind, abs(value) if kind == OFFSET else value), current, earliest, latest, at)
        if new is None:
            assert kind == SHIFT and current is None
        else:
            assert earliest <= new <= latest


@given(offsets, st.integers(1, 10**6), st.integers(0, 10**6))
def test_skip_moves_forward_from_the_commit_by_n_within_the_log(current: int, n: int, room: int) -> None:
    latest = current + room
    new = new_offset(ResetTarget(SKIP, n), current, 0, latest)
    assert new == min(current + n, latest)
    move = PartitionMove(0, current, new, 0, latest)
    assert move.skipped == new - current and move.replayed == 0


def test_skip_needs_a_commit_and_a_positive_count() -> None:
    assert new_offset(ResetTarget(SKIP, 1), None, 0, 10) is None
    with pytest.raises(ConfigError, match="--skip must be 1 or more"):
        ResetTarget(SKIP, 0)
    assert PartitionMove(0, 8, 2, 0, 10).replayed == 6


def test_kafka_retriable_codes_aiokafka_does_not_know_are_asked_again() -> None:
    """FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, OFFSET_NOT_AVAILABLE (after a leader change) are
    retriable in Kafka but unknown to aiokafka 0.14: taken as final, the partition went missing."""
    from kafka_sre_tui.engine.kafka.offsets import retriable

    assert [retriable(code) for code in (74, 75, 78, 6, 3)] == [True] * 5
    assert not retriable(10) and not retriable(73)  # message too large; deletion disabled: final
