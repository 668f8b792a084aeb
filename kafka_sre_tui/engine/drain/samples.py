"""What one look at a consumer group records, and a bounded history of those looks."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from kafka_sre_tui.engine.models import GroupInfo, TopicPartition


@dataclass(frozen=True)
class RecordAt:
    """The first record a consumer would read from the committed offset: its offset and timestamp.
    ``offset > committed`` means the record at the committed offset itself is gone (a transaction
    marker, compaction, retention), so its age is a lower bound of the lag in time."""

    offset: int
    timestamp_ms: int
    key: bytes | None = None  # the stuck record's key, when a partition does not move (drain screen)


@dataclass(frozen=True)
class PartitionSample:
    topic: str
    partition: int
    end_offset: int | None  # last stable offset: what a read_committed consumer can reach
    committed: int | None  # None: the group never committed here
    member_id: str | None = None  # the member it is assigned to
    record: RecordAt | None = None  # read from Kafka when it was cheap to; else lag in time is interpolated
    markers_only: bool = False  # between committed and end there are only transaction markers / aborted records
    pending: bool = False  # its ownership is moving: a consumer or streams group reconciling (KIP-848)
    reported_lag: int | None = None  # the broker's own lag of a share partition, when it gives one

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)

    @property
    def assigned(self) -> bool:
        return self.member_id is not None

    @property
    def lag(self) -> int | None:
        if self.reported_lag is not None:
            return self.reported_lag
        if self.committed is None or self.end_offset is None:
            return None
        if self.markers_only:
            return 0
        return max(self.end_offset - self.committed, 0)


@dataclass(frozen=True)
class GroupSample:
    """One look at a group. ``at`` is seconds on the caller's clock (epoch seconds by default,
    so record timestamps compare with it)."""

    group_id: str
    at: float
    state: str
    member_count: int
    partitions: tuple[PartitionSample, ...]
    group_type: str = "classic"  # share groups are judged per partition: many members read one partition
    by_tp: Mapping[TopicPartition, PartitionSample] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_tp", {p.tp: p for p in self.partitions})

    @classmethod
    def from_group(cls, group: GroupInfo, at: float) -> GroupSample:
        """A sample from an inspection snapshot (latest offsets, no record timestamps): what the
        dashboard has at every refresh anyway."""
        return cls(group.group_id, at, group.state, len(group.members), tuple(
            PartitionSample(p.topic, p.partition, p.latest_offset, p.committed, p.member_id, pending=p.pending,
                            reported_lag=p.reported_lag)
            for p in group.partitions), group.group_type)

    @property
    def total_lag(self) -> int:
        return sum(p.lag or 0 for p in self.partitions)

    @property
    def partitions_without_commit(self) -> int:
        return sum(p.committed is None for p in self.partitions)


class History:
    """The last ``maxlen`` samples of one group, oldest first; memory is bounded whatever the run time."""

    def __init__(self, maxlen: int = 600) -> None:
        if maxlen < 2:
            raise ValueError("a history needs room for at least two samples")
        self._samples: deque[GroupSample] = deque(maxlen=maxlen)

    def append(self, sample: GroupSample) -> None:
        if self._samples and sample.at < self._samples[-1].at:
            raise ValueError("samples must arrive in time order")
        self._samples.append(sample)

    def __len__(self) -> int:
        return len(self._samples)

    def __iter__(self) -> Iterator[GroupSample]:
        return iter(self._samples)

    @property
    def latest(self) -> GroupSample:
        return self._samples[-1]

    @property
    def oldest(self) -> GroupSample:
        return self._samples[0]

    def window(self, seconds: float) -> list[GroupSample]:
        """Samples taken within ``seconds`` of the latest one (always at least the latest)."""
        if not self._samples:
            return []
        start = self._samples[-1].at - seconds
        out = []
        for s in reversed(self._samples):
            if s.at < start:
                break
            out.append(s)
        out.reverse()
        return out

    def ends(self, tp: TopicPartition) -> list[tuple[float, int]]:
        """(time, end offset) points of one partition over the whole history, oldest first."""
        points = []
        for s in self._samples:
            p = s.by_tp.get(tp)
            if p is not None and p.end_offset is not None:
                points.append((s.at, p.end_offset))
        return points

    def total_lags(self, last: int) -> list[int]:
        return [s.total_lag for s in list(self._samples)[-last:]]
