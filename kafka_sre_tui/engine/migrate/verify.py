"""``migrate verify``: per partition, the record count and a SHA-256 over (key, value, headers,
timestamp) of each record in order, on both sides, side by side.

A migration copies record batches as they are, so most partitions are first compared batch by batch:
a SHA-256 over each batch's records section (compressed, as stored) and the header fields that give
the records their meaning (codec, timestamp type, offset span, timestamps, record count), with every
batch's CRC-32C checked. Equal on both sides, the records are equal without decoding one. A partition
whose batches differ (re-batched by a record-by-record write, recompressed by the target, a batch
straddling the range) is compared again record by record, and only that verdict counts.

The ranges compared: with the migration's state, the source records it copied and the target
records it wrote (and any target record after them is reported: something else wrote there);
without state, both topics from their first offset to their last stable offset.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import crc32c
from aiokafka.record.default_records import DefaultRecordBatch

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import KafkaRequestFailed, KsreError
from kafka_sre_tui.engine.kafka.batches import (
    HEADER_SIZE,
    MEANINGFUL_ATTRIBUTES,
    BatchHeader,
    crc_region,
    split_batches,
    whole_batches_end,
)
from kafka_sre_tui.engine.kafka.fetch import (
    LEADER_MOVED,
    OFFSET_OUT_OF_RANGE,
    FetchedPartition,
    committed_only,
    fetch_raw,
)
from kafka_sre_tui.engine.kafka.fetch_rounds import FetchRounds
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offsets import EARLIEST, LATEST, READ_COMMITTED, list_offsets
from kafka_sre_tui.engine.kafka.session import KafkaSession, translate_error
from kafka_sre_tui.engine.migrate.request import MigrateRequest
from kafka_sre_tui.engine.migrate.setup import inspect_source, selections, stable_ends, state_folder
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.restore.state import load_partitions, load_plan
from kafka_sre_tui.engine.target.topic import inspect_target

Range = tuple[int, int, int]  # (partition, from offset, to offset exclusive)

FETCH_MAX_BYTES = 16 << 20  # per fetch answer: the memory a side holds at once
PARTITION_FETCH_BYTES = 4 << 20
MAX_LEADER_RETRIES = 20
LEADER_RETRY_SECONDS = 0.25
MAX_IDLE_ROUNDS = 20  # rounds in a row in which no partition advanced before the read gives up


@dataclass(frozen=True)
class SideDigest:
    records: int
    sha256: str


@dataclass(frozen=True)
class PartitionVerdict:
    partition: int
    target_partition: int
    source_range: tuple[int, int]
    target_range: tuple[int, int]
    source: SideDigest
    target: SideDigest
    target_after: int  # target records after the migrated range (written by something else)
    compared: str = "records"  # "batches": identical record batches; "records": decoded, record by record

    @property
    def match(self) -> bool:
        return self.source == self.target and self.target_after == 0


@dataclass(frozen=True)
class VerifyResult:
    source: str
    target: str
    ranges_from: str  # "migration state" or "whole topics"
    partitions: tuple[PartitionVerdict, ...]

    @property
    def ok(self) -> bool:
        return all(p.match for p in self.partitions)


_TIMESTAMP = struct.Struct(">q").pack
_LENGTH = struct.Struct(">i").pack
_NULL = _LENGTH(-1)


def _field(data: bytes | None) -> bytes:
    return _NULL if data is None else _LENGTH(len(data)) + data


def record_bytes(key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]],
                 timestamp: int) -> bytes:
    """One record as the digest sees it, unambiguously (lengths first; -1 for null): the timestamp, key,
    value, header count, then each header's name and value."""
    parts = [_TIMESTAMP(timestamp), _field(key), _field(value), _LENGTH(len(headers))]
    for name, data in headers:
        parts += (_field(name.encode()), _field(data))
    return b"".join(parts)


def record_digest_update(digest: hashlib._Hash, key: bytes | None, value: bytes | None,
                         headers: Sequence[tuple[str, bytes | None]], timestamp: int) -> None:
    """Feed one record into a running digest (the same bytes as :func:`record_bytes`)."""
    digest.update(record_bytes(key, value, headers, timestamp))


async def digest_ranges(cluster: ClusterConfig, topic: str, ranges: list[Range],
                        by_batch: bool = False) -> dict[int, SideDigest | None]:
    """Count and hash the committed records of each partition's [from, to): raw fetches (one per partition
    leader per round, as backups fetch), each batch's CRC-32C checked, aborted transactions and markers
    dropped, the records decoded from the batches (no consumer, no record objects kept).

    ``by_batch``: hash whole batches instead, undecoded; a partition with a batch that straddles its
    range gets None (it can only be compared record by record)."""
    wanted = {p: (lo, hi) for p, lo, hi in ranges if hi > lo}
    result: dict[int, SideDigest | None] = {p: SideDigest(0, hashlib.sha256().hexdigest()) for p, _lo, _hi in ranges}
    if not wanted:
        return result
    try:
        async with KafkaSession(cluster) as session:
            found = await _digest_partitions(session, topic, wanted, by_batch)
    except KsreError:
        raise
    except Exception as exc:
        raise translate_error(exc, cluster, f"reading topic '{topic}' to verify it") from exc
    result.update(found)
    return result


async def _digest_partitions(session: KafkaSession, topic: str, wanted: dict[int, tuple[int, int]],
                             by_batch: bool) -> dict[int, SideDigest | None]:
    digests = {p: hashlib.sha256() for p in wanted}
    straddled: set[int] = set()  # by_batch: a batch crosses the range's bounds
    counts = dict.fromkeys(wanted, 0)
    positions = {p: lo for p, (lo, _hi) in wanted.items()}
    leaders = await _leaders(session, topic)
    rounds: FetchRounds[int] = FetchRounds(MAX_IDLE_ROUNDS)
    retries = 0
    why = ""  # what the last round asked again for, for the error when the retries run out
    while positions:
        by_leader: dict[int, dict[TopicPartition, int]] = defaultdict(dict)
        for p in rounds.order(positions):
            node = leaders.get(p)
            if node is not None:
                by_leader[node][TopicPartition(topic, p)] = positions[p]
        answers = await asyncio.gather(*(
            fetch_raw(session, node, at, max_bytes=FETCH_MAX_BYTES, partition_max_bytes=PARTITION_FETCH_BYTES,
                      isolation_level=READ_COMMITTED) for node, at in by_leader.items()))
        fetched = {tp.partition: f for answer in answers for tp, f in answer.items()}
        moved = len(fetched) < len(positions)
        progressed = False
        for p, answer in fetched.items():
            if answer.error_code in LEADER_MOVED:
                moved, why = True, f"partition {p} has no leader that answers"
                continue
            if answer.error_code == OFFSET_OUT_OF_RANGE and await _still_in_range(session, topic, p, leaders,
                                                                                positions[p]):
                # a broker that has not caught up with its own log yet: ask again shortly
                moved, why = True, (f"its leader kept answering that offset {positions[p]} of partition {p} is "
                                    "out of range although the partition's offsets include it")
                continue
            session.raise_for_code(answer.error_code, f"fetching {topic}/{p} to verify it")
            hi = wanted[p][1]
            if not by_batch:
                counts[p] += _digest_batches(digests[p], answer, topic, p, positions[p], hi)
            elif (count := _digest_whole_batches(digests[p], answer, topic, p, positions[p], hi)) is None:
                straddled.add(p)
                del positions[p]  # compared record by record instead: no need to read on
                continue
            else:
                counts[p] += count
            next_offset = whole_batches_end(answer.records)
            if next_offset is not None and next_offset > positions[p]:
                positions[p] = next_offset
                rounds.advanced(p)
                progressed = True
            else:
                rounds.waited(p)
            if positions[p] >= hi:
                del positions[p]
        if rounds.end_round(progressed or moved) and positions:
            p = rounds.order(positions)[0]
            raise KafkaRequestFailed(f"reading '{topic}' on cluster '{session.cluster.name}' stopped short of the "
                                     f"offsets to verify (partition {p} at offset {positions[p]}, expected up to "
                                     f"{wanted[p][1]})", retriable=True)
        if moved:
            retries += 1
            if retries > MAX_LEADER_RETRIES:
                raise KafkaRequestFailed(f"fetching '{topic}' on cluster '{session.cluster.name}' to verify it: "
                                         f"{why or 'a partition had no leader'} for "
                                         f"{MAX_LEADER_RETRIES * LEADER_RETRY_SECONDS:g} s; verify again",
                                         retriable=True)
            await asyncio.sleep(LEADER_RETRY_SECONDS)
            leaders = await _leaders(session, topic)
    return {p: None if p in straddled else SideDigest(counts[p], digests[p].hexdigest()) for p in wanted}


def _checked_batches(answer: FetchedPartition, topic: str, partition: int, position: int,
                     end: int) -> Iterator[tuple[BatchHeader, memoryview]]:
    """The committed batches of one fetch answer that hold offsets in [position, end), each batch's
    CRC-32C checked."""
    for header, view in committed_only(split_batches(answer.records), answer.aborted):
        if header.next_offset <= position:
            continue
        if header.base_offset >= end:
            break
        if crc32c.crc32c(crc_region(view)) != header.crc:
            raise KafkaRequestFailed(f"the record batch at {topic}/{partition} offset {header.base_offset} fails "
                                     "its CRC-32C check (corrupt on the broker or in transit); verify again, then "
                                     "check the broker's log")
        yield header, view


_BATCH_MEANING = struct.Struct(">biqqi").pack  # codec and timestamp type, offset span, timestamps, count


def _digest_whole_batches(digest: hashlib._Hash, answer: FetchedPartition, topic: str, partition: int,
                          position: int, end: int) -> int | None:
    """Feed the committed batches at offsets [position, end) of one fetch answer into ``digest``,
    undecoded: what gives the records their meaning, not the fields a producer or broker owns
    (offsets, leader epoch, producer id, epoch and sequence, the transactional flag). The records
    counted, or None when a batch straddles ``position`` or ``end``."""
    count = 0
    for header, view in _checked_batches(answer, topic, partition, position, end):
        if header.base_offset < position or header.next_offset > end:
            return None
        digest.update(_BATCH_MEANING(header.attributes & MEANINGFUL_ATTRIBUTES, header.last_offset_delta,
                                     header.first_timestamp, header.max_timestamp, header.record_count))
        digest.update(view[HEADER_SIZE:])
        count += header.record_count
    return count


def _digest_batches(digest: hashlib._Hash, answer: FetchedPartition, topic: str, partition: int,
                    position: int, end: int) -> int:
    """Feed the committed records at offsets [position, end) of one fetch answer into ``digest``."""
    count = 0
    for header, view in _checked_batches(answer, topic, partition, position, end):
        append_time = header.max_timestamp if header.log_append_time else None
        # one update per batch: the same bytes as one per record (a running hash), and hashlib releases
        # the GIL on large updates, so the other side's fetches proceed meanwhile
        records = [record_bytes(r.key, r.value, r.headers, r.timestamp if append_time is None else append_time)
                   for r in DefaultRecordBatch(bytes(view)) if position <= r.offset < end]
        digest.update(b"".join(records))
        count += len(records)
    return count


async def _still_in_range(session: KafkaSession, topic: str, partition: int, leaders: dict[int, int | None],
                          position: int) -> bool:
    """Whether ``position`` lies in the partition's log as ListOffsets reports it (records deleted by
    retention are an error: verification cannot vouch for records it did not read)."""
    tp = TopicPartition(topic, partition)
    at = {tp: leaders.get(partition)}
    earliest, latest = await asyncio.gather(list_offsets(session, at, EARLIEST), list_offsets(session, at, LATEST))
    return earliest.get(tp, position + 1) <= position <= latest.get(tp, -1)


async def _leaders(session: KafkaSession, topic: str) -> dict[int, int | None]:
    meta = await session.metadata_object([topic])
    for t in meta["topics"]:
        session.raise_for_code(t["error_code"], f"reading topic '{topic}' to verify it")
    return {tp.partition: node for tp, node in partition_leaders(meta).items()}


async def verify_migration(source: ClusterConfig, target: ClusterConfig, request: MigrateRequest) -> VerifyResult:
    async with KafkaSession(source) as source_session, KafkaSession(target) as target_session:
        found = await inspect_source(source_session, request.source_topic)
        existing = await inspect_target(target_session, request.target)
        if not existing.exists:
            raise KafkaRequestFailed(f"target topic '{request.target}' does not exist on cluster '{target.name}'")
        states = state_folder(request, found, existing.cluster_id)
        plan = load_plan(states)
        target_ends = await stable_ends(target_session, request.target)
        if plan is not None:
            progress = load_partitions(states, plan["partitions"])
            source_ranges = [(p.selection.partition, p.selection.start, p.source_position) for p in progress]
            target_ranges = [(p.selection.target_partition, p.target_start, p.target_next) for p in progress]
            origin = "migration state"
        else:
            pairs = selections(request, found)
            source_ranges = [(s, found.earliest.get(s, 0), found.stable_end.get(s, 0)) for s, _t in pairs]
            target_ranges = [(t, existing.earliest.get(t, 0), target_ends.get(t, 0)) for _s, t in pairs]
            origin = "whole topics"
    sides: list[tuple[Range, Range]] = list(zip(source_ranges, target_ranges, strict=True))
    left, right = await asyncio.gather(digest_ranges(source, request.source_topic, source_ranges, by_batch=True),
                                       digest_ranges(target, request.target, target_ranges, by_batch=True))
    again = [(here, there) for here, there in sides if left[here[0]] is None or left[here[0]] != right[there[0]]]
    if again:  # not the same batches: compare the records themselves
        left_records, right_records = await asyncio.gather(
            digest_ranges(source, request.source_topic, [here for here, _there in again]),
            digest_ranges(target, request.target, [there for _here, there in again]))
        left.update(left_records)
        right.update(right_records)
    by_records = {here[0] for here, _there in again}
    verdicts = []
    for (s, lo, hi), (t, tlo, thi) in sides:
        after = max(0, target_ends.get(t, thi) - thi) if plan is not None else 0
        source_digest, target_digest = left[s], right[t]
        assert source_digest is not None and target_digest is not None  # record by record always digests
        verdicts.append(PartitionVerdict(s, t, (lo, hi), (tlo, thi), source_digest, target_digest, after,
                                         "records" if s in by_records else "batches"))
    return VerifyResult(f"{source.name}/{request.source_topic}", f"{target.name}/{request.target}", origin,
                        tuple(verdicts))
