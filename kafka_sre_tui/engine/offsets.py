"""Batched ListOffsets: one request per partition leader per round, never one per partition."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping

from aiokafka.protocol.offset import OffsetRequest

from kafka_sre_tui.engine.connection import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition

EARLIEST = -2
LATEST = -1
READ_UNCOMMITTED = 0
READ_COMMITTED = 1  # LATEST then means the last stable offset


async def list_offsets(
    session: KafkaSession,
    leaders: Mapping[TopicPartition, int | None],
    spec: int,
    isolation_level: int = READ_UNCOMMITTED,
) -> dict[TopicPartition, int]:
    """Offsets for ``spec`` (EARLIEST, LATEST or a timestamp in ms) of each partition, sent as one
    request per leader, concurrently. Partitions without a leader, or whose leader answered with
    an error, are missing from the result (the caller shows them as unknown)."""
    by_leader: dict[int, list[TopicPartition]] = defaultdict(list)
    for tp, leader in leaders.items():
        if leader is not None:
            by_leader[leader].append(tp)
    answers = await asyncio.gather(*(
        _ask_leader(session, node, tps, spec, isolation_level) for node, tps in by_leader.items()))
    result: dict[TopicPartition, int] = {}
    for answer in answers:
        result.update(answer)
    return result


async def _ask_leader(session: KafkaSession, node: int, tps: Iterable[TopicPartition], spec: int,
                      isolation_level: int) -> dict[TopicPartition, int]:
    per_topic: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for tp in tps:
        per_topic[tp.topic].append((tp.partition, spec))
    request = OffsetRequest(-1, isolation_level, list(per_topic.items()))
    response = await session.send(node, request, "listing offsets")
    result = {}
    for topic, partitions in response.topics:
        for partition, error_code, _timestamp, offset in partitions:
            if error_code == 0 and offset >= 0:
                result[TopicPartition(topic, partition)] = offset
    return result
