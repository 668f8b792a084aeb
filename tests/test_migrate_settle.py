"""Where a migration's checkpoint may move a partition when nothing of it is in flight: past what was
handed to the writer, never past what was only fetched (pure logic; the broker test is
test_cluster.py::test_a_rate_limited_migration_over_three_leaders_copies_every_record)."""

from __future__ import annotations

from typing import Any

from kafka_sre_tui.engine.kafka.topic_writer import WriterSettings
from kafka_sre_tui.engine.migrate.copy import Copier, _Lane
from kafka_sre_tui.engine.restore.plan import PartitionSelection
from kafka_sre_tui.engine.restore.state import PartitionProgress


def _copier(*lanes: _Lane) -> Copier:
    none: Any = None  # settle() speaks to neither Kafka nor the writer
    return Copier(none, "orders", list(lanes), none, WriterSettings(), {})


def _lane(partition: int, stop: int | None = 1000) -> _Lane:
    return _Lane(PartitionProgress.fresh(PartitionSelection(partition, partition, 0, 1000), 0), stop, skip=0)


def test_a_partition_fetched_but_not_yet_handed_over_stays_where_it_is() -> None:
    waiting = _lane(1)
    waiting.fetched_to = 600  # another leader loop holds this answer while the writer is busy
    _copier(waiting).settle()
    assert waiting.progress.source_position == 0
    assert not waiting.progress.done


def test_a_partition_whose_handed_records_are_acknowledged_moves_past_markers_to_its_stop() -> None:
    handed = _lane(2)
    handed.progress.record_written(list(range(998)), 0)  # acknowledged up to 997; 998-999 a commit marker
    handed.last_handed, handed.fetched_to, handed.handed_to = 997, 1000, 1000
    in_flight = _lane(3)
    in_flight.progress.record_written(list(range(10)), 0)
    in_flight.last_handed, in_flight.fetched_to, in_flight.handed_to = 20, 40, 40  # 10-20 not yet acknowledged
    _copier(handed, in_flight).settle()
    assert (handed.progress.source_position, handed.progress.done) == (1000, True)
    assert in_flight.progress.source_position == 10
