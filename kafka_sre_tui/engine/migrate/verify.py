"""``migrate verify``: per partition, the record count and a SHA-256 over (key, value, headers,
timestamp) of each record in order, on both sides, side by side.

The ranges compared: with the migration's state, the source records it copied and the target
records it wrote (and any target record after them is reported: something else wrote there);
without state, both topics from their first offset to their last stable offset.
"""

from __future__ import annotations

import asyncio
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as KafkaTP

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import KafkaRequestFailed
from kafka_sre_tui.engine.kafka.session import KafkaSession, client_settings, translate_error
from kafka_sre_tui.engine.migrate.copy import FETCH_MAX_BYTES, PARTITION_FETCH_BYTES, RECORDS_PER_POLL
from kafka_sre_tui.engine.migrate.request import MigrateRequest
from kafka_sre_tui.engine.migrate.setup import inspect_source, selections, stable_ends, state_folder
from kafka_sre_tui.engine.restore.state import load_partitions, load_plan
from kafka_sre_tui.engine.target.topic import inspect_target

Range = tuple[int, int, int]  # (partition, from offset, to offset exclusive)


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


def record_digest_update(digest: hashlib._Hash, key: bytes | None, value: bytes | None,
                         headers: Sequence[tuple[str, bytes | None]], timestamp: int) -> None:
    """Feed one record into a running digest, unambiguously (lengths first; -1 for null): the
    timestamp, key, value, header count, then each header's name and value. One update per record
    (the same bytes as one update per field, at a fraction of the calls)."""
    parts = [_TIMESTAMP(timestamp), _field(key), _field(value), _LENGTH(len(headers))]
    for name, data in headers:
        parts += (_field(name.encode()), _field(data))
    digest.update(b"".join(parts))


async def digest_ranges(cluster: ClusterConfig, topic: str, ranges: list[Range]) -> dict[int, SideDigest]:
    """Read each partition's [from, to) with one read_committed consumer; count and hash the records."""
    wanted = {p: (lo, hi) for p, lo, hi in ranges if hi > lo}
    result = {p: SideDigest(0, hashlib.sha256().hexdigest()) for p, _lo, _hi in ranges}
    if not wanted:
        return result
    consumer = AIOKafkaConsumer(**client_settings(cluster), enable_auto_commit=False, auto_offset_reset="none",
                                isolation_level="read_committed", fetch_max_bytes=FETCH_MAX_BYTES,
                                max_partition_fetch_bytes=PARTITION_FETCH_BYTES)
    try:
        async with asyncio.timeout(cluster.request_timeout_seconds):
            await consumer.start()
        tps = {p: KafkaTP(topic, p) for p in wanted}
        consumer.assign(list(tps.values()))
        digests = {p: hashlib.sha256() for p in wanted}
        counts = dict.fromkeys(wanted, 0)
        for p, tp in tps.items():
            consumer.seek(tp, wanted[p][0])
        pending = set(wanted)
        idle = 0
        while pending:
            batch = await consumer.getmany(timeout_ms=500, max_records=RECORDS_PER_POLL)
            idle = 0 if batch else idle + 1
            if idle > 2 * max(10, cluster.request_timeout_seconds):
                raise KafkaRequestFailed(f"reading '{topic}' on cluster '{cluster.name}' stopped short of the "
                                         f"offsets to verify ({', '.join(map(str, sorted(pending)))})",
                                         retriable=True)
            for tp, records in batch.items():
                hi = wanted[tp.partition][1]
                for r in records:
                    if r.offset < hi:
                        record_digest_update(digests[tp.partition], r.key, r.value, r.headers, r.timestamp)
                        counts[tp.partition] += 1
            for p in list(pending):
                if await consumer.position(tps[p]) >= wanted[p][1]:
                    pending.discard(p)
                    consumer.pause(tps[p])
        result.update({p: SideDigest(counts[p], digests[p].hexdigest()) for p in wanted})
        return result
    except KafkaRequestFailed:
        raise
    except Exception as exc:
        raise translate_error(exc, cluster, f"reading topic '{topic}' to verify it") from exc
    finally:
        await consumer.stop()


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
    left, right = await asyncio.gather(digest_ranges(source, request.source_topic, source_ranges),
                                       digest_ranges(target, request.target, target_ranges))
    verdicts = []
    for (s, lo, hi), (t, tlo, thi) in zip(source_ranges, target_ranges, strict=True):
        after = max(0, target_ends.get(t, thi) - thi) if plan is not None else 0
        verdicts.append(PartitionVerdict(s, t, (lo, hi), (tlo, thi), left[s], right[t], after))
    return VerifyResult(f"{source.name}/{request.source_topic}", f"{target.name}/{request.target}", origin,
                        tuple(verdicts))
