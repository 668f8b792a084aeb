"""One look at a consumer group on Kafka, with the existing batched engine calls.

Per sample: describe_group (Metadata, FindCoordinator, DescribeGroups, OffsetFetch, ListOffsets per
leader) plus one READ_COMMITTED ListOffsets per leader for the last stable offsets, so an open or
aborted transaction does not leave lag stuck above 0. Then, optionally, the timestamps of the
records at the committed offsets (see timestamps.py). Never a request per partition.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

from kafka_sre_tui.engine.drain.samples import GroupSample, PartitionSample, RecordAt
from kafka_sre_tui.engine.drain.timestamps import MARKERS_ONLY, RecordTimestamps
from kafka_sre_tui.engine.inspect.groups import describe_group
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offsets import LATEST, READ_COMMITTED, list_offsets
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import GroupInfo, TopicPartition


class GroupSampler:
    """``async with GroupSampler(session, group) as s: sample = await s.sample()``"""

    def __init__(self, session: KafkaSession, group_id: str, *, read_timestamps: bool = True,
                 timestamp_budget_seconds: float = 1.0, clock: Callable[[], float] = time.time) -> None:
        self.session = session
        self.group_id = group_id
        self.clock = clock
        self.timestamps = (RecordTimestamps(session.cluster, timestamp_budget_seconds)
                           if read_timestamps else None)
        self._leaders: dict[TopicPartition, int | None] = {}

    async def __aenter__(self) -> GroupSampler:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        if self.timestamps is not None:
            await self.timestamps.close()

    async def sample(self) -> GroupSample:
        group = await describe_group(self.session, self.group_id)
        stable = await self._last_stable_offsets(group)
        at = self.clock()
        ends = {}
        for p in group.partitions:
            tp = TopicPartition(p.topic, p.partition)
            ends[tp] = stable.get(tp, p.latest_offset)
        found = await self._records(group, ends)
        partitions = []
        for p in group.partitions:
            tp = TopicPartition(p.topic, p.partition)
            value = found.get(tp)
            partitions.append(PartitionSample(
                p.topic, p.partition, ends[tp], p.committed, p.member_id,
                record=value if isinstance(value, RecordAt) else None, markers_only=value == MARKERS_ONLY,
                pending=p.pending, reported_lag=p.reported_lag))
        return GroupSample(self.group_id, at, group.state, len(group.members), tuple(partitions), group.group_type)

    async def _last_stable_offsets(self, group: GroupInfo) -> dict[TopicPartition, int]:
        tps = [TopicPartition(p.topic, p.partition) for p in group.partitions]
        if not tps:
            return {}
        if any(tp not in self._leaders for tp in tps):
            await self._refresh_leaders(tps)
        stable = await list_offsets(self.session, {tp: self._leaders.get(tp) for tp in tps}, LATEST,
                                    READ_COMMITTED)
        if len(stable) < len(tps):  # a leader moved or is offline: refresh once and ask again
            await self._refresh_leaders(tps)
            missing = {tp: self._leaders.get(tp) for tp in tps if tp not in stable}
            stable.update(await list_offsets(self.session, missing, LATEST, READ_COMMITTED))
        return stable

    async def _refresh_leaders(self, tps: list[TopicPartition]) -> None:
        meta = (await self.session.metadata(sorted({tp.topic for tp in tps}))).to_object()
        self._leaders.update(partition_leaders(meta))

    async def _records(self, group: GroupInfo, ends: dict[TopicPartition, int | None]) -> dict[TopicPartition, object]:
        if self.timestamps is None:
            return {}
        wanted = {}
        for p in group.partitions:
            tp = TopicPartition(p.topic, p.partition)
            end = ends[tp]
            if p.committed is not None and end is not None and end > p.committed:
                wanted[tp] = (p.committed, end)
        return dict(await self.timestamps.lookup(wanted))
