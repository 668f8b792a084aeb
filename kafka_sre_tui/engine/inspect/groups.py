"""Groups of every type (classic, consumer, share, streams): state, members and assignments,
committed offsets and lag.

Round trips, whatever the number of groups: one Metadata; one ListGroups per broker (each broker
answers with the groups it coordinates, with their types from v5 on, so no FindCoordinator per
group); one describe request per coordinator and group type (see group_describe.py); one
OffsetFetch v8 per coordinator for up to 500 groups (classic, consumer, streams) and, per share
group, DescribeShareGroupOffsets with bounded concurrency; one ListOffsets per partition leader.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass

from kafka_sre_tui.engine.inspect.group_describe import Described, describe_on
from kafka_sre_tui.engine.kafka.group_protocol import (
    DescribeShareGroupOffsets,
    ListGroups,
    listed_groups,
    share_offsets,
)
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offset_fetch import GROUPS_PER_REQUEST, OffsetFetch, committed_answer
from kafka_sre_tui.engine.kafka.offsets import LATEST, list_offsets
from kafka_sre_tui.engine.kafka.retry import with_coordinator_retries
from kafka_sre_tui.engine.kafka.session import KafkaSession, group_not_found
from kafka_sre_tui.engine.models import GroupInfo, PartitionLag, TopicPartition

SHARE_OFFSETS_CONCURRENCY = 16
COMMITTING_TYPES = ("classic", "consumer", "streams")  # groups whose progress is a committed offset

# (committed offset or share-partition start offset, the broker's own lag or None) per partition
Positions = dict[TopicPartition, tuple[int, int | None]]


async def list_groups(session: KafkaSession) -> list[GroupInfo]:
    """Every group the principal may describe, of every type, with lag, sorted by group id."""
    leaders = partition_leaders(await session.metadata_object(None))
    positions = await group_positions(session, leaders, await coordinated_groups(session))
    return await positions.with_lag(session, leaders)


async def coordinated_groups(session: KafkaSession) -> dict[int, dict[str, str]]:
    """``{coordinator: {group id: type}}``: one ListGroups per broker."""
    nodes = session.broker_ids()
    listed = await asyncio.gather(*(group_types_on(session, node) for node in nodes))
    return {node: types for node, types in zip(nodes, listed, strict=True) if types}


async def describe_group(session: KafkaSession, group_id: str) -> GroupInfo:
    leaders = partition_leaders(await session.metadata_object(None))

    async def described() -> list[GroupInfo]:  # a cluster's first group request waits for its coordinator
        coordinator = await session.guard(session.admin.find_coordinator(group_id),
                                          f"finding the coordinator of group '{group_id}'")
        types = await group_types_on(session, coordinator)
        positions = await group_positions(session, leaders, {coordinator: {group_id: types.get(group_id, "classic")}})
        return await positions.with_lag(session, leaders)

    group = (await with_coordinator_retries(described))[0]
    if group.state == "Dead" and not group.partitions:
        raise group_not_found(group_id, session.cluster)
    return group


async def committed_offsets_for_topic(session: KafkaSession, topic: str) -> dict[str, dict[int, int]]:
    """``{group: {partition: committed offset}}`` for every group with a commit on ``topic``
    (share groups commit nothing: they are left out)."""
    found = await committed_offsets_for_topics(session, [topic])
    return {group: topics[topic] for group, topics in found.items()}


async def committed_offsets_for_topics(session: KafkaSession,
                                       topics: list[str]) -> dict[str, dict[str, dict[int, int]]]:
    """``{group: {topic: {partition: committed offset}}}`` for every group with a commit on any of
    ``topics``, in one listing of the groups and one OffsetFetch per group."""
    await session.metadata([])
    nodes = session.broker_ids()
    listed = await asyncio.gather(*(group_types_on(session, node, COMMITTING_TYPES) for node in nodes))
    groups = [Described(g, node, t, "", "", "", ()) for node, types in zip(nodes, listed, strict=True)
              for g, t in types.items() if t in COMMITTING_TYPES]
    committed = await _committed(session, groups)
    wanted = set(topics)
    result: dict[str, dict[str, dict[int, int]]] = {}
    for group in groups:
        mine: dict[str, dict[int, int]] = defaultdict(dict)
        for tp, (offset, _) in committed.get(group.group_id, {}).items():
            if tp.topic in wanted:
                mine[tp.topic][tp.partition] = offset
        if mine:
            result[group.group_id] = {t: dict(sorted(p.items())) for t, p in sorted(mine.items())}
    return result


async def group_types_on(session: KafkaSession, node: int, types: tuple[str, ...] = ()) -> dict[str, str]:
    """``{group id: type}`` of the groups ``node`` coordinates (of ``types`` only, when given and the
    broker filters: ListGroups v5); a broker without v5 lists classic groups only."""
    response = await session.send(node, ListGroups(list(types)), "listing groups")
    session.raise_for_code(response.error_code, "listing groups")
    return {group_id: group_type for group_id, _protocol, _state, group_type in listed_groups(response)}


@dataclass(frozen=True)
class GroupPositions:
    """Groups described, with where each stands (committed offsets, or share-partition starts) and the
    partitions its lag is shown for: everything but the log ends, which are read after this, so that a
    commit is never compared with an end read before it."""

    described: list[Described]
    positions: list[Positions]
    wanted: dict[str, set[TopicPartition]]

    def partitions(self) -> set[TopicPartition]:
        return {tp for tps in self.wanted.values() for tp in tps}

    def groups(self, latest: dict[TopicPartition, int]) -> list[GroupInfo]:
        """Sorted by group id, lag against ``latest``."""
        return sorted((_group_info(d, committed, latest, self.wanted[d.group_id])
                       for d, committed in zip(self.described, self.positions, strict=True)),
                      key=lambda g: g.group_id)

    async def with_lag(self, session: KafkaSession, leaders: dict[TopicPartition, int | None]) -> list[GroupInfo]:
        """:meth:`groups` against the log ends read now (one ListOffsets per leader)."""
        return self.groups(await list_offsets(session, {tp: leaders.get(tp) for tp in self.partitions()}, LATEST))


async def group_positions(session: KafkaSession, leaders: dict[TopicPartition, int | None],
                          by_coordinator: dict[int, dict[str, str]]) -> GroupPositions:
    requests = []
    for node, types in by_coordinator.items():
        per_type: dict[str, list[str]] = defaultdict(list)
        for group_id, group_type in types.items():
            per_type[group_type].append(group_id)
        requests += [describe_on(session, node, t, ids) for t, ids in per_type.items()]
    described = [d for lst in await asyncio.gather(*requests) for d in lst]

    partitions_of: dict[str, list[TopicPartition]] = defaultdict(list)
    for tp in leaders:
        partitions_of[tp.topic].append(tp)
    limit = asyncio.Semaphore(SHARE_OFFSETS_CONCURRENCY)
    by_group, shared = await asyncio.gather(
        _committed(session, [d for d in described if d.group_type != "share"]),
        asyncio.gather(*(_share_positions(session, d, partitions_of, limit)
                         for d in described if d.group_type == "share")))
    share_positions = iter(shared)
    positions = [next(share_positions) if d.group_type == "share" else by_group.get(d.group_id, {})
                 for d in described]

    wanted: dict[str, set[TopicPartition]] = {}
    for d, committed in zip(described, positions, strict=True):
        topics = ({tp.topic for tp in committed} | {tp.topic for m in d.members for tp in m.assignment}
                  | {tp.topic for m in d.members for tp in m.target_assignment or ()} | set(d.subscribed_topics))
        wanted[d.group_id] = {tp for t in topics for tp in partitions_of.get(t, ())} | set(committed)
    return GroupPositions(described, positions, wanted)


def _group_info(d: Described, committed: Positions, latest: dict[TopicPartition, int],
                wanted: set[TopicPartition]) -> GroupInfo:
    owner: dict[TopicPartition, str] = {}
    for m in sorted(d.members, key=lambda m: m.member_id):
        for tp in m.assignment:
            owner.setdefault(tp, m.member_id)
    pending = {tp for m in d.members for tp in m.pending}
    lags = []
    for tp in sorted(wanted):
        offset, reported = committed.get(tp, (None, None))
        lags.append(PartitionLag(tp.topic, tp.partition, latest.get(tp), offset, owner.get(tp), reported,
                                 tp in pending))
    return GroupInfo(d.group_id, d.state, d.protocol_type, d.protocol, d.coordinator, d.members, tuple(lags),
                     d.group_type, d.group_epoch, d.assignment_epoch)


async def _committed(session: KafkaSession, groups: list[Described]) -> dict[str, Positions]:
    """Each group's committed offsets: one OffsetFetch per coordinator for up to
    :data:`GROUPS_PER_REQUEST` groups, the coordinators asked concurrently."""
    by_node: dict[int, list[str]] = defaultdict(list)
    for group in groups:
        by_node[group.coordinator].append(group.group_id)
    asks = [(node, ids[i:i + GROUPS_PER_REQUEST]) for node, ids in by_node.items()
            for i in range(0, len(ids), GROUPS_PER_REQUEST)]
    answers = await asyncio.gather(*(
        session.send(node, OffsetFetch(ids), "reading committed offsets of groups") for node, ids in asks))
    result: dict[str, Positions] = {}
    for response in answers:
        for group_id, (error_code, partitions) in committed_answer(response.body).items():
            action = f"reading committed offsets of group '{group_id}'"
            session.raise_for_code(error_code, action)
            positions: Positions = {}
            for tp, (offset, partition_error) in partitions.items():
                session.raise_for_code(partition_error, action)
                if offset >= 0:
                    positions[tp] = (offset, None)
            result[group_id] = positions
    return result


async def _share_positions(session: KafkaSession, group: Described, partitions_of: dict[str, list[TopicPartition]],
                           limit: asyncio.Semaphore) -> Positions:
    """Each share partition's start offset and, where the broker gives it, its lag. A Kafka 4.1
    broker answers only for the topics named: those the members subscribe to or own, or, for a group
    with no members, every topic but the internal ones."""
    topics = set(group.subscribed_topics) | {tp.topic for m in group.members for tp in m.assignment}
    if not topics:
        topics = {t for t in partitions_of if not t.startswith("__")}
    asked = {t: [tp.partition for tp in partitions_of.get(t, ())] for t in sorted(topics)}
    action = f"reading start offsets of share group '{group.group_id}'"
    async with limit:
        response = await session.send(group.coordinator, DescribeShareGroupOffsets(group.group_id, asked), action)
    error_code, rows = share_offsets(response)
    session.raise_for_code(error_code, action)
    result: Positions = {}
    for topic, partition, start, lag, partition_error in rows:
        session.raise_for_code(partition_error, action)
        if start >= 0:
            result[TopicPartition(topic, partition)] = (start, lag)
    return result
