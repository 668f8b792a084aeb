"""Value types shared by the engine, the CLI and the dashboard: frozen, plain, JSON-friendly."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple


class TopicPartition(NamedTuple):
    """A tuple, not a dataclass: listings key dicts by it tens of thousands of times, and a tuple's
    hash and comparison run in C (a dataclass's ``__hash__`` is a Python call: 5x slower to make and
    look up). Equal to aiokafka's TopicPartition of the same topic and partition."""

    topic: str
    partition: int


@dataclass(frozen=True)
class Broker:
    node_id: int
    host: str
    port: int
    rack: str | None


@dataclass(frozen=True)
class ClusterOverview:
    cluster_id: str | None
    controller_id: int | None
    brokers: tuple[Broker, ...]


@dataclass(frozen=True)
class PartitionInfo:
    partition: int
    leader: int | None
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    offline_replicas: tuple[int, ...] = ()
    earliest_offset: int | None = None
    latest_offset: int | None = None
    size_bytes: int | None = None  # the leader replica's log on disk; None when unknown
    replicas_size_bytes: int | None = None  # every replica's log: the disk the partition uses

    @property
    def under_replicated(self) -> bool:
        return len(self.isr) < len(self.replicas)

    @property
    def offline(self) -> bool:
        return self.leader is None

    @property
    def messages(self) -> int | None:
        """Records retained between the earliest and latest offset (an upper bound on compacted
        or transactional topics, whose offsets include removed records and markers)."""
        if self.earliest_offset is None or self.latest_offset is None:
            return None
        return self.latest_offset - self.earliest_offset


@dataclass(frozen=True)
class TopicInfo:
    name: str
    internal: bool
    partitions: tuple[PartitionInfo, ...]
    configs: dict[str, str] = field(default_factory=dict)  # non-default settings only

    @property
    def replication_factor(self) -> int:
        return max((len(p.replicas) for p in self.partitions), default=0)

    @property
    def messages(self) -> int:
        return sum(p.messages or 0 for p in self.partitions)

    @property
    def size_bytes(self) -> int | None:
        """Bytes on disk of the leaders (the topic's size); None when any partition's is unknown."""
        return _sum_known(p.size_bytes for p in self.partitions)

    @property
    def replicas_size_bytes(self) -> int | None:
        """Bytes on disk of every replica; None when any is unknown."""
        return _sum_known(p.replicas_size_bytes for p in self.partitions)

    @property
    def under_replicated(self) -> int:
        return sum(p.under_replicated for p in self.partitions)

    @property
    def offline(self) -> int:
        return sum(p.offline for p in self.partitions)


@dataclass(frozen=True)
class TopicListing:
    """Topics with their sizes, and why some sizes are unknown (one line per broker or log dir)."""

    topics: tuple[TopicInfo, ...]
    size_problems: tuple[str, ...] = ()


def _sum_known(values: Iterable[int | None]) -> int | None:
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


GROUP_TYPES = ("classic", "consumer", "share", "streams")


@dataclass(frozen=True)
class GroupMember:
    """One member. ``assignment`` is what it owns now; ``target_assignment`` what the coordinator
    wants it to own (consumer and streams groups, KIP-848/KIP-1071; None for classic and share
    groups, which have no target). ``member_epoch`` is None for classic groups."""

    member_id: str
    client_id: str
    host: str
    assignment: tuple[TopicPartition, ...]
    instance_id: str | None = None
    member_epoch: int | None = None
    target_assignment: tuple[TopicPartition, ...] | None = None

    @property
    def pending(self) -> tuple[TopicPartition, ...]:
        """Partitions still moving: in its target but not yet owned, or owned but no longer in its target."""
        if self.target_assignment is None:
            return ()
        return tuple(sorted(set(self.target_assignment) ^ set(self.assignment)))


@dataclass(frozen=True)
class PartitionLag:
    """``committed`` is None when the group never committed on this partition ("no commit"),
    which is not the same as a lag of 0. For a share group it is the share-partition start offset
    (every record before it is delivered and acknowledged), and ``member_id`` the first of the
    members reading it (many members read one share partition)."""

    topic: str
    partition: int
    latest_offset: int | None
    committed: int | None
    member_id: str | None = None
    reported_lag: int | None = None  # the broker's own lag (share groups on Kafka 4.2+), used when given
    pending: bool = False  # its ownership is moving (a consumer or streams group reconciling)

    @property
    def lag(self) -> int | None:
        if self.reported_lag is not None:
            return self.reported_lag
        if self.committed is None or self.latest_offset is None:
            return None
        return max(self.latest_offset - self.committed, 0)


@dataclass(frozen=True)
class GroupInfo:
    """``group_type`` is one of :data:`GROUP_TYPES`; ``group_epoch`` and ``assignment_epoch`` are None
    for classic groups (their generation is not an epoch of the new protocols)."""

    group_id: str
    state: str
    protocol_type: str
    protocol: str
    coordinator_id: int
    members: tuple[GroupMember, ...] = ()
    partitions: tuple[PartitionLag, ...] = ()
    group_type: str = "classic"
    group_epoch: int | None = None
    assignment_epoch: int | None = None

    @property
    def pending_partitions(self) -> int:
        """Partitions whose ownership is still moving (0 unless a consumer or streams group reconciles)."""
        return len({tp for m in self.members for tp in m.pending})

    @property
    def summary(self) -> str:
        """``consumer group, Reconciling, 2 members, group epoch 7, assignment epoch 7; reconciling:
        2 partitions pending`` (what the CLI and the dashboard put in a group's title)."""
        parts = [f"{self.group_type} group", self.state, f"{len(self.members)} members"]
        if self.group_epoch is not None:
            parts.append(f"group epoch {self.group_epoch}, assignment epoch {self.assignment_epoch}")
        text = ", ".join(parts)
        if self.pending_partitions:
            text += f"; reconciling: {self.pending_partitions} partitions pending"
        return text

    @property
    def total_lag(self) -> int:
        """Sum of lag over partitions with a commit; see :attr:`partitions_without_commit`."""
        return sum(p.lag or 0 for p in self.partitions)

    @property
    def partitions_without_commit(self) -> int:
        return sum(p.committed is None for p in self.partitions)

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(sorted({p.topic for p in self.partitions}))
