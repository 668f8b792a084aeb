"""Raw Fetch: the broker's record batches as bytes, one request per leader for all its partitions.

For read_committed the broker stops at the last stable offset but still returns the batches of
aborted transactions (with the list of aborted producers) and the control markers; they are
dropped here batch by batch, as Kafka's own consumer does, without decoding records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from aiokafka.protocol.fetch import FetchRequest
from aiokafka.protocol.types import Array, Schema
from aiokafka.record.default_records import DefaultRecordBatch

from kafka_sre_tui.engine.kafka.batches import BatchHeader
from kafka_sre_tui.engine.kafka.offsets import READ_COMMITTED
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition

OFFSET_OUT_OF_RANGE = 1
LEADER_MOVED = frozenset({5, 6, 74, 75})  # leader not available, not leader, fenced/unknown leader epoch
_ABORT = 0  # control record type


@dataclass(frozen=True)
class FetchedPartition:
    error_code: int
    high_watermark: int
    last_stable_offset: int
    log_start_offset: int
    aborted: tuple[tuple[int, int], ...]  # (producer id, first offset)
    records: bytes


async def fetch_raw(session: KafkaSession, node: int, positions: dict[TopicPartition, int], *,
                    max_bytes: int, partition_max_bytes: int, max_wait_ms: int = 500,
                    isolation_level: int = READ_COMMITTED) -> dict[TopicPartition, FetchedPartition]:
    per_topic: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for tp, offset in positions.items():
        per_topic[tp.topic].append((tp.partition, offset, partition_max_bytes))
    request = FetchRequest(max_wait_ms, 1, max_bytes, isolation_level, list(per_topic.items()))
    response = await session.send(node, request, "fetching records")
    # Not ``response.to_object()``: a partition the broker could not read (offset out of range, not
    # the leader...) comes with a null list of aborted transactions, on which aiokafka's to_object
    # fails with "'NoneType' object is not iterable" and the error code is lost.
    topic_schema = _array_of(type(response).SCHEMA, "topics")
    partition_schema = _array_of(topic_schema, "partitions")
    result = {}
    for topic_values in response.topics:
        topic = dict(zip(topic_schema.names, topic_values, strict=True))
        for values in topic["partitions"]:
            p = dict(zip(partition_schema.names, values, strict=True))
            result[TopicPartition(topic["topics"], p["partition"])] = FetchedPartition(
                p["error_code"], p["highwater_offset"], p["last_stable_offset"], p.get("log_start_offset", -1),
                tuple((a[0], a[1]) for a in p["aborted_transactions"] or ()),
                p["message_set"] or b"")
    return result


def _array_of(schema: Schema, name: str) -> Schema:
    field = schema.fields[schema.names.index(name)]
    assert isinstance(field, Array) and isinstance(field.array_of, Schema)
    return field.array_of


def committed_only(batches: Iterable[tuple[BatchHeader, memoryview]],
                   aborted: tuple[tuple[int, int], ...]) -> Iterator[tuple[BatchHeader, memoryview]]:
    """Drop control batches and the batches of aborted transactions."""
    pending = sorted(aborted, key=lambda a: a[1])
    next_aborted = 0
    aborted_producers: set[int] = set()
    for header, view in batches:
        if header.producer_id >= 0:
            while next_aborted < len(pending) and pending[next_aborted][1] <= header.last_offset:
                aborted_producers.add(pending[next_aborted][0])
                next_aborted += 1
            if header.is_control:
                if _is_abort_marker(view):
                    aborted_producers.discard(header.producer_id)
                continue
            if header.is_transactional and header.producer_id in aborted_producers:
                continue
        elif header.is_control:
            continue
        yield header, view


def _is_abort_marker(view: memoryview) -> bool:
    for record in DefaultRecordBatch(bytes(view)):
        key = record.key or b""
        return len(key) >= 4 and int.from_bytes(key[2:4], "big", signed=True) == _ABORT
    return False
