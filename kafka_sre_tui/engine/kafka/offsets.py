"""Batched ListOffsets: one request per partition leader per round, never one per partition."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Mapping

from aiokafka import errors as kerr

from kafka_sre_tui.engine.kafka.large_answers import ListOffsets, offsets_answer
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition

EARLIEST = -2
LATEST = -1
READ_UNCOMMITTED = 0
READ_COMMITTED = 1  # LATEST then means the last stable offset
RETRIES = 5
# Retriable in Kafka, unknown to aiokafka 0.14 (its UnknownError is not retriable): FENCED_LEADER_EPOCH,
# UNKNOWN_LEADER_EPOCH, and OFFSET_NOT_AVAILABLE (a new leader's high watermark not caught up yet). Taken
# as final, a partition went missing from the answer: a read right after a leader change read nothing.
RETRIABLE_UNKNOWN_TO_AIOKAFKA = frozenset({74, 75, 78})
RETRY_BACKOFF_SECONDS = 0.2


async def list_offsets(
    session: KafkaSession,
    leaders: Mapping[TopicPartition, int | None],
    spec: int,
    isolation_level: int = READ_UNCOMMITTED,
) -> dict[TopicPartition, int]:
    """Offsets for ``spec`` (EARLIEST, LATEST or a timestamp in ms) of each partition, sent as one
    request per leader, concurrently. Partitions whose leader is unknown or answered with a retriable
    error are asked again, a few times, after a metadata refresh; those still failing, and those with
    no offset for a timestamp, are missing from the result (the caller shows them as unknown)."""
    result: dict[TopicPartition, int] = {}
    pending = dict(leaders)
    for attempt in range(RETRIES + 1):
        by_leader: dict[int, list[TopicPartition]] = defaultdict(list)
        for tp, node in pending.items():
            if node is not None:
                by_leader[node].append(tp)
        answers = await asyncio.gather(*(
            _ask_leader(session, node, tps, spec, isolation_level) for node, tps in by_leader.items()))
        retry: set[TopicPartition] = {tp for tp, node in pending.items() if node is None}
        for found, failed in answers:
            result.update(found)
            retry |= failed
        if not retry or attempt == RETRIES:
            break
        # a leader moved or is still being elected (a topic just created): ask who leads now
        await asyncio.sleep(RETRY_BACKOFF_SECONDS * (attempt + 1))
        meta = (await session.metadata(sorted({tp.topic for tp in retry}))).to_object()
        now_leading = partition_leaders(meta)
        pending = {tp: now_leading.get(tp) for tp in retry}
    return result


async def _ask_leader(session: KafkaSession, node: int, tps: Iterable[TopicPartition], spec: int,
                      isolation_level: int) -> tuple[dict[TopicPartition, int], set[TopicPartition]]:
    """Offsets found, and the partitions worth asking again (retriable errors)."""
    per_topic: dict[str, list[int]] = defaultdict(list)
    for tp in tps:
        per_topic[tp.topic].append(tp.partition)
    response = await session.send(node, ListOffsets(per_topic, spec, isolation_level), "listing offsets")
    result, retry = {}, set()
    for tp, error_code, offset in offsets_answer(response.body):
        if error_code == 0 and offset >= 0:
            result[tp] = offset
        elif error_code and retriable(error_code):
            retry.add(tp)
    return result, retry


def retriable(error_code: int) -> bool:
    return error_code in RETRIABLE_UNKNOWN_TO_AIOKAFKA or kerr.for_code(error_code).retriable
