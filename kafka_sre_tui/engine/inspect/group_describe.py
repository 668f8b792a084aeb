"""Describe groups with the request their type needs, batched per coordinator:
classic -> DescribeGroups, consumer -> ConsumerGroupDescribe, share -> ShareGroupDescribe,
streams -> StreamsGroupDescribe. The classic DescribeGroups answers "Dead" for groups of the new
types, which is why a group's type (from ListGroups) decides the request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from kafka_sre_tui.engine.kafka.group_protocol import ConsumerGroupDescribe, ShareGroupDescribe, StreamsGroupDescribe
from kafka_sre_tui.engine.kafka.protocol import DescribeGroups
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import GroupMember, TopicPartition


@dataclass(frozen=True)
class Described:
    group_id: str
    coordinator: int
    group_type: str
    state: str
    protocol_type: str
    protocol: str
    members: tuple[GroupMember, ...]
    group_epoch: int | None = None
    assignment_epoch: int | None = None
    subscribed_topics: tuple[str, ...] = ()  # share groups: what the members subscribe to


async def describe_on(session: KafkaSession, node: int, group_type: str, group_ids: list[str]) -> list[Described]:
    """The groups ``group_ids``, all of ``group_type``, that ``node`` coordinates."""
    if group_type == "consumer":
        return await _consumer_groups(session, node, group_ids)
    if group_type == "share":
        return await _share_groups(session, node, group_ids)
    if group_type == "streams":
        return await _streams_groups(session, node, group_ids)
    return await _classic_groups(session, node, group_ids)


async def _classic_groups(session: KafkaSession, node: int, group_ids: list[str]) -> list[Described]:
    response = await session.send(node, DescribeGroups(group_ids), "describing consumer groups")
    result = []
    for error_code, group_id, state, protocol_type, protocol, members, *_ in response.groups:
        session.raise_for_code(error_code, f"describing consumer group '{group_id}'")
        result.append(Described(group_id, node, "classic", state, protocol_type, protocol,
                                tuple(_classic_member(m, protocol_type) for m in members)))
    return result


def _classic_member(raw: Iterable[Any], protocol_type: str) -> GroupMember:
    member_id, client_id, host, _metadata, assignment_bytes = raw
    assignment: tuple[TopicPartition, ...] = ()
    if protocol_type == "consumer" and assignment_bytes:
        decoded = ConsumerProtocolMemberAssignment.decode(assignment_bytes)
        assignment = tuple(sorted(TopicPartition(t, p) for t, ps in decoded.assignment for p in ps))
    return GroupMember(member_id, client_id, host, assignment)


def _partitions(assignment: Any) -> tuple[TopicPartition, ...]:
    topic_partitions = assignment[0] or []
    return tuple(sorted(TopicPartition(name, p) for _id, name, partitions, _tags in topic_partitions
                        for p in partitions))


async def _consumer_groups(session: KafkaSession, node: int, group_ids: list[str]) -> list[Described]:
    response = await session.send(node, ConsumerGroupDescribe(group_ids), "describing consumer groups")
    result = []
    for error_code, _message, group_id, state, group_epoch, assignment_epoch, assignor, members, *_ in response.groups:
        session.raise_for_code(error_code, f"describing consumer group '{group_id}'")
        described = tuple(
            GroupMember(m[0], m[4], m[5], _partitions(m[8]), instance_id=m[1], member_epoch=m[3],
                        target_assignment=_partitions(m[9]))
            for m in members)
        result.append(Described(group_id, node, "consumer", state, "consumer", assignor, described,
                                group_epoch, assignment_epoch))
    return result


async def _share_groups(session: KafkaSession, node: int, group_ids: list[str]) -> list[Described]:
    response = await session.send(node, ShareGroupDescribe(group_ids), "describing share groups")
    result = []
    for error_code, _message, group_id, state, group_epoch, assignment_epoch, assignor, members, *_ in response.groups:
        session.raise_for_code(error_code, f"describing share group '{group_id}'")
        described = tuple(GroupMember(m[0], m[3], m[4], _partitions(m[6]), member_epoch=m[2]) for m in members)
        topics = tuple(sorted({t for m in members for t in m[5] or ()}))
        result.append(Described(group_id, node, "share", state, "share", assignor, described,
                                group_epoch, assignment_epoch, topics))
    return result


async def _streams_groups(session: KafkaSession, node: int, group_ids: list[str]) -> list[Described]:
    response = await session.send(node, StreamsGroupDescribe(group_ids), "describing streams groups")
    result = []
    for error_code, _message, group_id, state, group_epoch, assignment_epoch, topology, members, *_ in response.groups:
        session.raise_for_code(error_code, f"describing streams group '{group_id}'")
        sources = _task_sources(topology)
        described = tuple(
            GroupMember(m[0], m[4], m[5], _active_partitions(m[12], sources), instance_id=m[2], member_epoch=m[1],
                        target_assignment=_active_partitions(m[13], sources))
            for m in members)
        result.append(Described(group_id, node, "streams", state, "streams", "", described,
                                group_epoch, assignment_epoch))
    return result


def _task_sources(topology: Any) -> dict[str, tuple[str, ...]]:
    """Subtopology id -> the topics its tasks read (task N reads partition N of each)."""
    subtopologies = (topology[1] if topology is not None else None) or []  # null until the first member joins
    return {s[0]: tuple(s[1] or ()) + tuple(t[0] for t in s[4] or ()) for s in subtopologies}


def _active_partitions(assignment: Any, sources: dict[str, tuple[str, ...]]) -> tuple[TopicPartition, ...]:
    """The partitions a streams member reads: those of its active tasks (standby and warm-up tasks
    restore state from changelogs; they do not consume the group's input)."""
    active = assignment[0] or []
    return tuple(sorted({TopicPartition(topic, p) for subtopology, partitions, _tags in active
                         for topic in sources.get(subtopology, ()) for p in partitions}))
