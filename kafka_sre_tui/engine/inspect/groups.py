"""Consumer groups: state, members and assignments, committed offsets and lag.

Round trips, whatever the number of groups: one Metadata; one ListGroups per broker (each broker
answers with the groups it coordinates, so no FindCoordinator per group); one DescribeGroups per
coordinator; OffsetFetch per group with bounded concurrency; one ListOffsets per partition leader.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from aiokafka.protocol.admin import ListGroupsRequest
from aiokafka.protocol.commit import OffsetFetchRequest

from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offsets import LATEST, list_offsets
from kafka_sre_tui.engine.kafka.protocol import DescribeGroups
from kafka_sre_tui.engine.kafka.retry import with_coordinator_retries
from kafka_sre_tui.engine.kafka.session import KafkaSession, group_not_found
from kafka_sre_tui.engine.models import GroupInfo, GroupMember, PartitionLag, TopicPartition

OFFSET_FETCH_CONCURRENCY = 16


@dataclass(frozen=True)
class _Described:
    group_id: str
    coordinator: int
    state: str
    protocol_type: str
    protocol: str
    members: tuple[GroupMember, ...]


async def list_groups(session: KafkaSession) -> list[GroupInfo]:
    """Every consumer group the principal may describe, with lag, sorted by group id."""
    meta = await session.metadata_object(None)
    listed = await asyncio.gather(*(_list_on(session, node) for node in session.broker_ids()))
    by_coordinator = {node: ids for node, ids in zip(session.broker_ids(), listed, strict=True) if ids}
    return await _groups_with_lag(session, meta, by_coordinator)


async def describe_group(session: KafkaSession, group_id: str) -> GroupInfo:
    meta = await session.metadata_object(None)

    async def described() -> list[GroupInfo]:  # a cluster's first group request waits for its coordinator
        coordinator = await session.guard(session.admin.find_coordinator(group_id),
                                          f"finding the coordinator of group '{group_id}'")
        return await _groups_with_lag(session, meta, {coordinator: [group_id]})

    group = (await with_coordinator_retries(described))[0]
    if group.state == "Dead" and not group.partitions:
        raise group_not_found(group_id, session.cluster)
    return group


async def committed_offsets_for_topic(session: KafkaSession, topic: str) -> dict[str, dict[int, int]]:
    """``{group: {partition: committed offset}}`` for every group with a commit on ``topic``."""
    await session.metadata([])
    nodes = session.broker_ids()
    listed = await asyncio.gather(*(_list_on(session, node) for node in nodes))
    groups = [_Described(g, node, "", "", "", ()) for node, ids in zip(nodes, listed, strict=True) for g in ids]
    limit = asyncio.Semaphore(OFFSET_FETCH_CONCURRENCY)
    committed = await asyncio.gather(*(_committed(session, g, limit) for g in groups))
    result: dict[str, dict[int, int]] = {}
    for group, offsets in zip(groups, committed, strict=True):
        mine = {tp.partition: offset for tp, offset in offsets.items() if tp.topic == topic}
        if mine:
            result[group.group_id] = dict(sorted(mine.items()))
    return result


async def _list_on(session: KafkaSession, node: int) -> list[str]:
    response = await session.send(node, ListGroupsRequest(), "listing consumer groups")
    session.raise_for_code(response.error_code, "listing consumer groups")
    return [g[0] for g in response.groups]


async def _groups_with_lag(session: KafkaSession, meta: dict[str, Any],
                           by_coordinator: dict[int, list[str]]) -> list[GroupInfo]:
    described_lists = await asyncio.gather(*(
        _describe_on(session, node, ids) for node, ids in by_coordinator.items()))
    described = [d for lst in described_lists for d in lst]
    limit = asyncio.Semaphore(OFFSET_FETCH_CONCURRENCY)
    committed_per_group = await asyncio.gather(*(_committed(session, d, limit) for d in described))

    leaders = partition_leaders(meta)
    partitions_of: dict[str, list[TopicPartition]] = defaultdict(list)
    for tp in leaders:
        partitions_of[tp.topic].append(tp)
    wanted: dict[str, set[TopicPartition]] = {}
    for d, committed in zip(described, committed_per_group, strict=True):
        topics = {tp.topic for tp in committed} | {tp.topic for m in d.members for tp in m.assignment}
        wanted[d.group_id] = {tp for t in topics for tp in partitions_of.get(t, ())} | set(committed)
    all_tps = {tp for tps in wanted.values() for tp in tps}
    latest = await list_offsets(session, {tp: leaders.get(tp) for tp in all_tps}, LATEST)

    groups = []
    for d, committed in zip(described, committed_per_group, strict=True):
        owner = {tp: m.member_id for m in d.members for tp in m.assignment}
        lags = tuple(PartitionLag(tp.topic, tp.partition, latest.get(tp), committed.get(tp), owner.get(tp))
                     for tp in sorted(wanted[d.group_id]))
        groups.append(GroupInfo(d.group_id, d.state, d.protocol_type, d.protocol, d.coordinator,
                                d.members, lags))
    return sorted(groups, key=lambda g: g.group_id)


async def _describe_on(session: KafkaSession, node: int, group_ids: list[str]) -> list[_Described]:
    action = "describing consumer groups"
    response = await session.send(node, DescribeGroups(group_ids), action)
    result = []
    for error_code, group_id, state, protocol_type, protocol, members, *_ in response.groups:
        session.raise_for_code(error_code, f"describing consumer group '{group_id}'")
        result.append(_Described(group_id, node, state, protocol_type, protocol,
                                 tuple(_member(m, protocol_type) for m in members)))
    return result


def _member(raw: Iterable[Any], protocol_type: str) -> GroupMember:
    member_id, client_id, host, _metadata, assignment_bytes = raw
    assignment: tuple[TopicPartition, ...] = ()
    if protocol_type == "consumer" and assignment_bytes:
        decoded = ConsumerProtocolMemberAssignment.decode(assignment_bytes)
        assignment = tuple(sorted(TopicPartition(t, p) for t, ps in decoded.assignment for p in ps))
    return GroupMember(member_id, client_id, host, assignment)


async def _committed(session: KafkaSession, group: _Described,
                     limit: asyncio.Semaphore) -> dict[TopicPartition, int]:
    action = f"reading committed offsets of group '{group.group_id}'"
    async with limit:
        response = await session.send(group.coordinator, OffsetFetchRequest(group.group_id, None), action)
    session.raise_for_code(getattr(response, "error_code", 0), action)
    result = {}
    for topic, partitions in response.topics:
        for partition, offset, _metadata, error_code in partitions:
            session.raise_for_code(error_code, action)
            if offset >= 0:
                result[TopicPartition(topic, partition)] = offset
    return result
