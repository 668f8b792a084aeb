"""A bounded scan of a topic's records, one Fetch per partition leader per round.

The broker's record batches come through the raw fetch that backups use (engine/kafka/fetch.py),
aborted transactions and markers dropped batch by batch; only the batches in range are decoded.
Memory holds one fetch answer at a time; records are yielded as they are decoded.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from aiokafka.record.default_records import DefaultRecordBatch

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.group_offsets.committed import committed_offsets
from kafka_sre_tui.engine.kafka.batches import split_batches, whole_batches_end
from kafka_sre_tui.engine.kafka.fetch import (
    LEADER_MOVED,
    OFFSET_OUT_OF_RANGE,
    FetchedPartition,
    committed_only,
    fetch_raw,
)
from kafka_sre_tui.engine.kafka.fetch_rounds import FetchRounds
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offsets import EARLIEST, LATEST, READ_COMMITTED, READ_UNCOMMITTED, list_offsets
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.records.model import CREATE_TIME, LOG_APPEND_TIME, Record
from kafka_sre_tui.engine.records.query import RecordQuery

FETCH_BYTES = 4 << 20
PARTITION_FETCH_BYTES = 1 << 20
MAX_LEADER_RETRIES = 20
LEADER_RETRY_SECONDS = 0.25
MAX_IDLE_ROUNDS = 20  # fetches in a row that return nothing before a partition is given up

END, LIMIT, SCAN_LIMIT = "end", "limit", "scan limit"


@dataclass(frozen=True)
class PartitionRange:
    partition: int
    start: int  # the first offset looked at
    end: int  # exclusive: the read stops before it


@dataclass(frozen=True)
class ReadEnd:
    """The last thing :func:`read_records` yields: why it stopped and what it covered."""

    stopped: str  # END, LIMIT or SCAN_LIMIT
    scanned: int  # records looked at
    matched: int  # records yielded
    ranges: tuple[PartitionRange, ...]
    notes: tuple[str, ...]  # partitions with no commit (--group), records deleted while reading, ...


async def read_records(session: KafkaSession, query: RecordQuery,
                       planned: Callable[[tuple[PartitionRange, ...]], None] | None = None
                       ) -> AsyncIterator[Record | ReadEnd]:
    """The matching records in (round, partition, offset) order, then one :class:`ReadEnd`.
    ``planned`` is told the offset ranges before the first fetch (a job's progress)."""
    leaders, ranges, notes = await _plan(session, query)
    if planned is not None:
        planned(ranges)
    positions = {r.partition: r.start for r in ranges if r.start < r.end}
    ends = {r.partition: r.end for r in ranges}
    scanned = matched = retries = 0
    rounds: FetchRounds[int] = FetchRounds(MAX_IDLE_ROUNDS)
    isolation = READ_COMMITTED if query.read_committed else READ_UNCOMMITTED
    while positions:
        by_leader: dict[int, dict[TopicPartition, int]] = defaultdict(dict)
        for partition in rounds.order(positions):
            node = leaders.get(partition)
            if node is not None:
                by_leader[node][TopicPartition(query.topic, partition)] = positions[partition]
        answers = await asyncio.gather(*(
            fetch_raw(session, node, at, max_bytes=FETCH_BYTES, partition_max_bytes=PARTITION_FETCH_BYTES,
                      isolation_level=isolation) for node, at in by_leader.items()))
        fetched = {tp.partition: f for answer in answers for tp, f in answer.items()}
        moved = len(fetched) < len(positions)
        progressed = False
        for partition in sorted(fetched):
            answer = fetched[partition]
            if answer.error_code in LEADER_MOVED:
                moved = True
                continue
            if answer.error_code == OFFSET_OUT_OF_RANGE:
                positions[partition] = await _skip_deleted(session, query.topic, partition, leaders,
                                                           positions[partition], notes)
                continue
            session.raise_for_code(answer.error_code, f"fetching {query.topic}/{partition}")
            for record in _decode(query.topic, partition, answer, positions[partition], ends[partition],
                                  query.read_committed):
                scanned += 1
                if query.filter.matches(record):
                    matched += 1
                    yield record
                    if query.limit is not None and matched >= query.limit:
                        yield ReadEnd(LIMIT, scanned, matched, ranges, tuple(notes))
                        return
                if query.max_scanned is not None and scanned >= query.max_scanned:
                    yield ReadEnd(SCAN_LIMIT, scanned, matched, ranges, tuple(notes))
                    return
            next_offset = whole_batches_end(answer.records)
            if next_offset is not None and next_offset > positions[partition]:
                positions[partition] = next_offset
                rounds.advanced(partition)
                progressed = True
            else:  # starved by the answer's size cap, or nothing past the position yet (a leader catching up)
                rounds.waited(partition)
            if positions[partition] >= ends[partition]:
                del positions[partition]
        if rounds.end_round(progressed or moved):  # no partition advanced for a while: stop where each stands
            for partition in sorted(positions):
                notes.append(f"partition {partition}: no records after offset {positions[partition]} "
                             f"(expected up to {ends[partition]}); stopped there")
            positions.clear()
        if moved:
            retries += 1
            if retries > MAX_LEADER_RETRIES:
                session.raise_for_code(6, f"fetching {query.topic}")  # NotLeaderForPartition, in words
            await asyncio.sleep(LEADER_RETRY_SECONDS)
            leaders = await _leaders(session, query.topic)
    yield ReadEnd(END, scanned, matched, ranges, tuple(notes))


def _decode(topic: str, partition: int, answer: FetchedPartition, position: int, end: int,
            read_committed: bool) -> list[Record]:
    batches = split_batches(answer.records)
    kept = committed_only(batches, answer.aborted) if read_committed else (
        (h, v) for h, v in batches if not h.is_control)
    records = []
    for header, view in kept:
        if header.next_offset <= position:
            continue
        if header.base_offset >= end:
            break
        kind = LOG_APPEND_TIME if header.log_append_time else CREATE_TIME
        for r in DefaultRecordBatch(bytes(view)):
            if position <= r.offset < end:
                timestamp = header.max_timestamp if header.log_append_time else r.timestamp
                records.append(Record(topic, partition, r.offset, timestamp, kind, r.key, r.value,
                                      tuple(r.headers)))
    return records


async def _plan(session: KafkaSession, query: RecordQuery) -> tuple[dict[int, int | None], tuple[PartitionRange, ...],
                                                                    list[str]]:
    leaders = await _leaders(session, query.topic)
    wanted = sorted(leaders) if query.partitions is None else sorted(set(query.partitions))
    unknown = [p for p in wanted if p not in leaders]
    if unknown:
        raise ConfigError(f"topic '{query.topic}' has partitions 0-{max(leaders)}; no partition "
                     f"{', '.join(map(str, unknown))}")
    tps = {TopicPartition(query.topic, p): leaders[p] for p in wanted}
    isolation = READ_COMMITTED if query.read_committed else READ_UNCOMMITTED
    earliest, latest = await asyncio.gather(list_offsets(session, tps, EARLIEST),
                                            list_offsets(session, tps, LATEST, isolation))
    notes: list[str] = []
    starts = await _starts(session, query, tps, earliest, latest, notes)
    stops = await _stops(session, query, tps, latest)
    ranges = []
    for p in wanted:
        tp = TopicPartition(query.topic, p)
        if tp not in earliest or tp not in latest:
            notes.append(f"partition {p}: no offsets (leader unavailable); skipped")
            continue
        start = starts.get(p)
        if start is None:
            continue
        ranges.append(PartitionRange(p, max(start, earliest[tp]), min(stops.get(p, latest[tp]), latest[tp])))
    return leaders, tuple(ranges), notes


async def _starts(session: KafkaSession, query: RecordQuery, tps: dict[TopicPartition, int | None],
                  earliest: dict[TopicPartition, int], latest: dict[TopicPartition, int],
                  notes: list[str]) -> dict[int, int]:
    if query.group is not None:
        committed = await committed_offsets(session, query.group)
        result = {}
        for tp in tps:
            if tp in committed:
                result[tp.partition] = committed[tp]
            else:
                notes.append(f"partition {tp.partition}: group '{query.group}' has no commit; skipped")
        return result
    if query.time_ms is not None:
        found = await list_offsets(session, tps, query.time_ms)
        # no offset for a timestamp: no record at or after it, so nothing to read there
        return {tp.partition: found.get(tp, latest.get(tp, 0)) for tp in tps}
    if query.tail is not None:
        return {tp.partition: latest.get(tp, 0) - query.tail for tp in tps}
    if query.offset is not None:
        return {tp.partition: query.offset for tp in tps}
    return {tp.partition: earliest.get(tp, 0) for tp in tps}


async def _stops(session: KafkaSession, query: RecordQuery, tps: dict[TopicPartition, int | None],
                 latest: dict[TopicPartition, int]) -> dict[int, int]:
    if query.to_offset is not None:
        return {tp.partition: query.to_offset + 1 for tp in tps}
    if query.to_time_ms is not None:
        after = await list_offsets(session, tps, query.to_time_ms + 1)
        return {tp.partition: after.get(tp, latest.get(tp, 0)) for tp in tps}
    return {}


async def _skip_deleted(session: KafkaSession, topic: str, partition: int, leaders: dict[int, int | None],
                        position: int, notes: list[str]) -> int:
    tp = TopicPartition(topic, partition)
    start = (await list_offsets(session, {tp: leaders.get(partition)}, EARLIEST)).get(tp, position)
    if start > position:
        notes.append(f"partition {partition}: offsets {position}-{start - 1} were deleted by retention while reading")
    return max(start, position)


async def _leaders(session: KafkaSession, topic: str) -> dict[int, int | None]:
    meta = await session.metadata_object([topic])
    for t in meta["topics"]:
        session.raise_for_code(t["error_code"], f"reading topic '{topic}'")
    return {tp.partition: node for tp, node in partition_leaders(meta).items()}


