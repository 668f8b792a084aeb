"""The lag engine on groups of the new types (synthetic samples, no Kafka): a consumer group that is
reconciling (KIP-848) is not STALLED; a share group is judged per partition (KIP-932)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kafka_sre_tui.engine.drain import DrainTracker, Status, TrackerSettings
from kafka_sre_tui.engine.drain.samples import GroupSample, PartitionSample

EPOCH = 1_700_000_000.0


def _judge(samples: Iterator[GroupSample], stall_seconds: float = 5) -> list:  # type: ignore[type-arg]
    tracker = DrainTracker(TrackerSettings(stall_seconds=stall_seconds))
    return [tracker.observe(s) for s in samples]


def test_a_partition_moving_between_members_of_a_reconciling_group_is_not_stalled_until_it_settles() -> None:
    # partition 1 leaves m1 for m2 (KIP-848 revocation, then assignment); its committed offset waits
    def samples() -> Iterator[GroupSample]:
        for i in range(20):
            moving = i < 12
            parts = (PartitionSample("orders", 0, 1000 + 10 * i, 1000 + 10 * i, "m1"),
                     PartitionSample("orders", 1, 800, 300, None if moving else "m2", pending=moving))
            yield GroupSample("g", EPOCH + i, "Reconciling" if moving else "Stable", 2, parts, "consumer")

    out = _judge(samples())
    at10 = out[10]
    assert at10.partitions[1].status is Status.UNKNOWN and at10.partitions[1].reason.startswith("reconciling")
    assert at10.status not in (Status.STALLED, Status.STOPPED)
    assert out[-1].partitions[1].status is Status.STALLED  # settled at m2, still not moving: a real stall


def _share_samples(group_type: str) -> Iterator[GroupSample]:
    # two partitions drained at 100/s each; the first of their (many) readers is m1 for both
    for i in range(6):
        parts = (PartitionSample("orders", 0, 2000, 100 * i, "m1"), PartitionSample("orders", 1, 1000, 100 * i, "m1"))
        yield GroupSample("g", EPOCH + i, "Stable", 3, parts, group_type)


def test_a_share_group_s_eta_is_its_slowest_partition_not_its_first_member() -> None:
    share = _judge(_share_samples("share"))[-1]
    assert share.eta.seconds == pytest.approx((2000 - 500) / 100, rel=0.05)
    consumer = _judge(_share_samples("consumer"))[-1]  # one member owning both: its lag over its rate
    assert consumer.eta.seconds == pytest.approx((3000 - 1000) / 200, rel=0.05)


def test_the_broker_s_own_share_lag_wins_over_end_minus_start_offset() -> None:
    sample = PartitionSample("orders", 0, 1000, 400, "m1", reported_lag=250)
    assert sample.lag == 250
    assert PartitionSample("orders", 0, 1000, 400, "m1").lag == 600
