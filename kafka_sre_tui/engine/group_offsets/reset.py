"""Where a reset moves a group: per partition, the current committed offset and the new one.

:func:`new_offset` is pure (tested with hypothesis); :func:`plan_reset` reads what it needs from Kafka
(the group, committed offsets, earliest and latest offsets, offsets for a time) and writes nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kafka_sre_tui.engine.errors import ConfigError, NotFound
from kafka_sre_tui.engine.group_offsets.committed import committed_offsets
from kafka_sre_tui.engine.input_checks import INT64_MAX
from kafka_sre_tui.engine.inspect.groups import describe_group
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offsets import EARLIEST, LATEST, list_offsets
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import GroupInfo, GroupMember, TopicPartition

EARLIEST_SPEC, LATEST_SPEC, TIME, OFFSET, SHIFT, SKIP = "earliest", "latest", "time", "offset", "shift", "skip"
SNAPSHOT = "snapshot"  # a rollback: back to the offsets a snapshot holds


@dataclass(frozen=True)
class ResetTarget:
    """``--to-earliest`` | ``--to-latest`` | ``--to-time MS`` | ``--to-offset N`` | ``--shift-by N`` | ``--skip N``."""

    kind: str
    value: int | None = None

    def __post_init__(self) -> None:
        if self.kind == SKIP and (self.value is None or self.value < 1):
            raise ConfigError(f"--skip must be 1 or more, got {self.value}")
        if self.kind == OFFSET and (self.value is None or self.value < 0):
            raise ConfigError(f"--to-offset must be 0 or more, got {self.value}")
        if self.value is not None and abs(self.value) > INT64_MAX:
            flag = {OFFSET: "--to-offset", SHIFT: "--shift-by", SKIP: "--skip", TIME: "--to-time"}.get(self.kind, "")
            raise ConfigError(f"{flag} must be at most {INT64_MAX} (Kafka's largest offset), got {self.value}")

    def describe(self) -> str:
        return {EARLIEST_SPEC: "to the earliest offset", LATEST_SPEC: "to the latest offset",
                TIME: f"to time {self.value} ms", OFFSET: f"to offset {self.value}",
                SHIFT: f"shifted by {self.value}", SKIP: f"skip {self.value}",
                SNAPSHOT: "back to a snapshot"}[self.kind]


def new_offset(target: ResetTarget, current: int | None, earliest: int, latest: int,
               at_time: int | None = None) -> int | None:
    """The offset a partition moves to, always within [earliest, latest]; None when the target needs a
    commit to move from (shift, skip) and there is none. ``at_time``: the first offset at or after the
    time (None: no record that late, so the latest)."""
    if target.kind == EARLIEST_SPEC:
        wanted = earliest
    elif target.kind == LATEST_SPEC:
        wanted = latest
    elif target.kind == TIME:
        wanted = latest if at_time is None else at_time
    elif target.kind == OFFSET:
        wanted = target.value or 0
    else:
        if current is None:
            return None
        wanted = current + (target.value or 0)
    return min(max(wanted, earliest), latest)


@dataclass(frozen=True)
class PartitionMove:
    partition: int
    current: int | None  # None: the group has no commit here
    new: int
    earliest: int
    latest: int

    @property
    def skipped(self) -> int:
        """Records the group will not read that it would have (0 when it moves back)."""
        return max(self.new - (self.current if self.current is not None else self.earliest), 0)

    @property
    def replayed(self) -> int:
        """Records the group will read again."""
        return max((self.current if self.current is not None else self.new) - self.new, 0)


@dataclass(frozen=True)
class ResetPlan:
    group: str
    topic: str
    target: ResetTarget
    moves: tuple[PartitionMove, ...]
    state: str
    protocol_type: str
    members: tuple[GroupMember, ...]
    notes: tuple[str, ...]
    group_type: str = "classic"  # as the broker reports it: classic, consumer (KIP-848), share, streams

    def group_info(self) -> GroupInfo:
        """The group as the plan saw it (its members: what an execution refuses on)."""
        return GroupInfo(self.group, self.state, self.protocol_type, "", -1, self.members, group_type=self.group_type)

    def offsets(self) -> dict[TopicPartition, int]:
        return {TopicPartition(self.topic, m.partition): m.new for m in self.moves}

    def previous(self) -> dict[int, int | None]:
        return {m.partition: m.current for m in self.moves}


async def plan_reset(session: KafkaSession, group: str, topic: str, partitions: tuple[int, ...] | None,
                     target: ResetTarget) -> ResetPlan:
    meta = await session.metadata_object([topic])
    for t in meta["topics"]:
        session.raise_for_code(t["error_code"], f"reading topic '{topic}'")
    leaders = partition_leaders(meta)
    wanted = sorted(tp.partition for tp in leaders) if partitions is None else sorted(set(partitions))
    missing = [p for p in wanted if TopicPartition(topic, p) not in leaders]
    if missing:
        raise ConfigError(f"topic '{topic}' has no partition {', '.join(map(str, missing))} "
                          f"(it has {len(leaders)})")
    tps = {TopicPartition(topic, p): leaders[TopicPartition(topic, p)] for p in wanted}
    info, committed, earliest, latest, at_time = await asyncio.gather(
        group_or_empty(session, group), committed_offsets(session, group), list_offsets(session, tps, EARLIEST),
        list_offsets(session, tps, LATEST),
        list_offsets(session, tps, target.value or 0) if target.kind == TIME else _empty())
    moves, notes = [], []
    for tp in tps:
        if tp not in earliest or tp not in latest:
            notes.append(f"partition {tp.partition}: offsets unknown (leader unavailable); left as it is")
            continue
        new = new_offset(target, committed.get(tp), earliest[tp], latest[tp], at_time.get(tp))
        if new is None:
            notes.append(f"partition {tp.partition}: no commit to {target.kind} from; left as it is")
            continue
        moves.append(PartitionMove(tp.partition, committed.get(tp), new, earliest[tp], latest[tp]))
    return ResetPlan(group, topic, target, tuple(moves), info.state, info.protocol_type, info.members,
                     tuple(notes), info.group_type)


async def group_or_empty(session: KafkaSession, group: str) -> GroupInfo:
    """The group as Kafka describes it; a group Kafka does not know is an empty, Dead one."""
    try:
        return await describe_group(session, group)
    except NotFound:
        return GroupInfo(group, "Dead", "", "", -1)


async def _empty() -> dict[TopicPartition, int]:
    return {}
