"""The record a partition that does not move is stuck on: the first readable record at the group's
committed offset, as the sampler already read it for its timestamp (no fetch of its own)."""

from __future__ import annotations

from dataclasses import dataclass

from kafka_sre_tui.engine.drain.assessment import Assessment
from kafka_sre_tui.engine.drain.samples import GroupSample
from kafka_sre_tui.engine.drain.status import Status
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.records.render import describe, show

NOT_MOVING = (Status.STALLED, Status.STOPPED)
KEY_CHARS = 40


@dataclass(frozen=True)
class StuckRecord:
    committed: int
    offset: int  # above ``committed`` when the record there is gone (a transaction marker, compaction)
    key: bytes | None

    def describe(self) -> str:
        """``"order-17"  (text, 8 B) at offset 42``; a null key reads ``null``."""
        where = f"at offset {self.offset:,}" if self.offset == self.committed else (
            f"at offset {self.offset:,} (nothing readable at {self.committed:,})")
        return f"{describe(show(self.key, max_chars=KEY_CHARS, pretty=False))} {where}"


def stuck_records(assessment: Assessment, sample: GroupSample | None) -> dict[TopicPartition, StuckRecord]:
    """The partitions judged STALLED or STOPPED whose committed record the sample read."""
    if sample is None:
        return {}
    result = {}
    for view in assessment.partitions:
        part = sample.by_tp.get(TopicPartition(view.topic, view.partition))
        if view.status in NOT_MOVING and part is not None and part.record is not None and part.committed is not None:
            result[part.tp] = StuckRecord(part.committed, part.record.offset, part.record.key)
    return result
