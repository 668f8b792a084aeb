"""Time to data loss for every group the dashboard lists, mostly from what its refresh has read anyway:
the groups' committed offsets, the partitions' log start and end offsets and sizes. On top of that,
per refresh: the topics' retention settings (one DescribeConfigs, cached for a minute) and the
timestamp of the record at the *lowest* committed offset of each lagging partition (one consumer,
cached per committed offset, a bounded time budget: see timestamps.py). The lowest committed offset is
the one retention reaches first; a group further ahead on the same partition gets its time estimate
from the log start's movement and the size limit only (else UNKNOWN, never a borrowed guess).
Group detail, the drain screen and ``lag`` look at one group more closely (data_loss_probe.py)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence

from kafka_sre_tui.engine.drain.data_loss import DataLoss, RetentionView, estimate
from kafka_sre_tui.engine.drain.data_loss_probe import HISTORY, DataLossProbe, growth, start_rate
from kafka_sre_tui.engine.drain.samples import RecordAt
from kafka_sre_tui.engine.drain.timestamps import MARKERS_ONLY, RecordTimestamps
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import GroupInfo, PartitionInfo, TopicInfo, TopicPartition

Losses = dict[str, dict[TopicPartition, DataLoss]]  # group -> partition -> its data loss


class GroupsDataLoss:
    def __init__(self, session: KafkaSession, clock: Callable[[], float] = time.time,
                 timestamp_budget_seconds: float = 1.0) -> None:
        self.probe = DataLossProbe(session, clock)
        self.timestamps = RecordTimestamps(session.cluster, timestamp_budget_seconds)
        self._history: dict[TopicPartition, deque[tuple[float, int, int | None, int | None]]] = {}

    async def look(self, topics: Sequence[TopicInfo], groups: Sequence[GroupInfo], at: float) -> Losses:
        """Every lagging partition of every group; ``at``: when the refresh read the offsets (epoch s)."""
        # keyed by plain tuples, equal to TopicPartition keys: 40,000 of them are made in C, not by a Python call
        partitions = {(t.name, p.partition): p for t in topics for p in t.partitions}
        lagging = [(g.group_id, TopicPartition(p.topic, p.partition), p.committed, p.latest_offset)
                   for g in groups for p in g.partitions
                   if p.committed is not None and p.latest_offset is not None and p.latest_offset > p.committed
                   and (p.topic, p.partition) in partitions]
        self._remember(partitions, {tp for _g, tp, _c, _e in lagging}, at)
        if not lagging:
            return {}
        configs = await self.probe.retention(sorted({tp.topic for _g, tp, _c, _e in lagging}))
        lowest: dict[TopicPartition, tuple[int, int]] = {}
        for _g, tp, committed, end in lagging:
            start = partitions[tp].earliest_offset
            if (start is None or committed >= start) and (tp not in lowest or committed < lowest[tp][0]):
                lowest[tp] = (committed, end)
        found = await self.timestamps.lookup(lowest)
        result: Losses = {}
        for group, tp, committed, end in lagging:
            record = found.get(tp) if lowest.get(tp, (None, 0))[0] == committed else None
            if record == MARKERS_ONLY:
                continue  # only transaction markers unread: nothing to lose
            result.setdefault(group, {})[tp] = estimate(self._view(partitions[tp], tp, committed, end, record,
                                                                   configs[tp.topic]), int(at * 1000))
        return result

    def _view(self, p: PartitionInfo, tp: TopicPartition, committed: int, end: int, record: object,
              retention: tuple[int | None, int | None]) -> RetentionView:
        history = self._history.get(tp, deque())
        return RetentionView(
            committed=committed, log_start=p.earliest_offset, end_offset=end,
            committed_timestamp_ms=record.timestamp_ms if isinstance(record, RecordAt) else None,
            retention_ms=retention[0], retention_bytes=retention[1], size_bytes=p.size_bytes,
            growth_bytes_per_second=growth(history), log_start_rate=start_rate(history))

    def _remember(self, partitions: dict[tuple[str, int], PartitionInfo], lagging: set[TopicPartition],
                  at: float) -> None:
        """The log start and end of the lagging partitions at each refresh: their rates of movement."""
        for tp in lagging:
            p = partitions[tp]
            if p.earliest_offset is not None:
                self._history.setdefault(tp, deque(maxlen=HISTORY)).append(
                    (at, p.earliest_offset, p.latest_offset, p.size_bytes))
        self._history = {tp: h for tp, h in self._history.items() if tp in lagging}

    async def close(self) -> None:
        await self.timestamps.close()


async def groups_and_data_loss(session: KafkaSession,
                               clock: Callable[[], float] = time.time) -> tuple[list[GroupInfo], Losses]:
    """``groups``: every group, and the data loss ahead of each, in one look (the log start's movement
    needs refreshes to be seen: the dashboard's groups pane)."""
    from kafka_sre_tui.engine.inspect.cluster_look import look_at_cluster

    look = await look_at_cluster(session, clock)
    # one look, so the committed records' timestamps get the whole request time
    losses = GroupsDataLoss(session, clock, timestamp_budget_seconds=session.cluster.request_timeout_seconds)
    try:
        return look.groups, await losses.look(look.topics, look.groups, look.ends_read_at)
    finally:
        await losses.close()
