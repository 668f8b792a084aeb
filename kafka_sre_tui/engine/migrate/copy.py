"""The copying loop: raw read_committed fetches from the source, one loop per source leader, feed the
shared topic writer; checkpoints every few seconds; stops at given end offsets, or never (follow).

Record batches go from the source's fetch to the target's produce as they are, the way restore sends
stored batches (``TopicWriter.write_batch``): only the header fields a producer owns are rewritten,
the (compressed) records are not decoded. A batch goes record by record instead when it cannot go
as it is (restore's rule, ``restore.write.sendable_as_stored``: compacted holes, LogAppendTime, a
cleaner's marks, larger than the target takes, another compression asked for) or when this run must
not write all of it (it straddles a stop offset, or a resumed run's already-written records).
Aborted transactions and control batches are dropped batch by batch (``fetch.committed_only``).

Each leader loop keeps its next fetch in flight while the writer sends the previous answer, so
reading and writing overlap. Memory stays bounded by two fetches per leader plus the writer's one
batch being filled and one in flight per partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.record.default_records import DefaultRecordBatch

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.jobs import Checkpointed
from kafka_sre_tui.engine.kafka.batches import BatchHeader, RawBatch, split_batches
from kafka_sre_tui.engine.kafka.fetch import (
    LEADER_MOVED,
    OFFSET_OUT_OF_RANGE,
    FetchedPartition,
    committed_only,
    fetch_raw,
)
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.kafka.topic_writer import TopicWriter, WriterSettings
from kafka_sre_tui.engine.migrate.request import Emit, MigrateProgress
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.restore.state import PartitionProgress
from kafka_sre_tui.engine.restore.write import checkpoint, sendable_as_stored

# What `migrate verify` reads with (verify.py, an aiokafka consumer that decodes every record): a
# fetch response is held about three times over while it arrives and is parsed, and a poll without
# max_records decodes everything buffered at once. Measured on 200,000 x 1 KiB over 6 partitions, peak
# RSS of `migrate verify` 263 -> 58-82 MB (32 MB, 4 MB fetches before), at the same speed or better.
FETCH_MAX_BYTES = 4 << 20
PARTITION_FETCH_BYTES = 512 << 10
RECORDS_PER_POLL = 1000
# The copy's raw fetches: bytes are only split into batches, never decoded into Python objects.
COPY_FETCH_MAX_BYTES = 16 << 20
COPY_PARTITION_FETCH_BYTES = 4 << 20
NO_LEADER_RETRIES = 20  # rounds in a row without a leader for some partition before giving up


@dataclass(eq=False)
class _Lane:
    """One source partition as this run sees it."""

    progress: PartitionProgress
    stop: int | None
    skip: int  # records already in the target from a killed run: count, do not write
    expected: bool = False
    fetched_to: int = 0  # the next fetch position: past every batch (and marker) fetched
    handed_to: int = 0  # past every batch (and marker) given to the writer, or skipped as not to be copied
    stable: int = -1  # the source's last stable offset, from the last fetch
    starved: bool = False  # the last fetch held only part of a batch: ask for this partition first
    last_handed: int = -1  # offset of the last record given to the writer
    oldest: deque[tuple[int, int]] = field(default_factory=deque)  # (offset, timestamp) not yet acknowledged

    @property
    def done(self) -> bool:
        return self.stop is not None and self.progress.source_position >= self.stop

    @property
    def wanted(self) -> bool:
        return self.stop is None or self.fetched_to < self.stop

    @property
    def caught_up(self) -> bool:
        return (self.stop is not None and self.fetched_to >= self.stop) or 0 <= self.stable <= self.fetched_to


class Copier:
    def __init__(self, session: KafkaSession, source_topic: str, lanes: list[_Lane], writer: TopicWriter,
                 settings: WriterSettings, stable: dict[int, int], clock: Callable[[], float] = time.time) -> None:
        self.session, self.topic, self.writer = session, source_topic, writer
        self.lanes = {ln.progress.selection.partition: ln for ln in lanes}
        self.as_stored = sendable_as_stored(settings)
        self.stable, self.clock = stable, clock
        self.batches_as_they_are = 0
        self.on_round: Callable[[], None] = lambda: None

    def lag(self) -> tuple[int, float]:
        now_ms = self.clock() * 1000
        records, seconds = 0, 0.0
        for partition, lane in self.lanes.items():
            end = lane.stable if lane.stable >= 0 else self.stable.get(partition, 0)
            behind = max(0, end - lane.progress.source_position)
            records += behind
            while lane.oldest and lane.oldest[0][0] < lane.progress.source_position:
                lane.oldest.popleft()
            if behind and lane.oldest:
                seconds = max(seconds, (now_ms - lane.oldest[0][1]) / 1000)
        return records, max(seconds, 0.0)

    def settle(self) -> None:
        """Partitions whose handed records are all acknowledged move past what was handed over
        (transaction markers and compacted gaps too), so a stop offset is reached and lag can be 0.
        Called by every leader loop for every lane: never past what was fetched but not yet handed
        (another leader loop may be waiting on the writer with this lane's answer in hand)."""
        for lane in self.lanes.values():
            p = lane.progress
            if lane.skip == 0 and p.source_position > lane.last_handed:
                reach = lane.handed_to if lane.stop is None else min(lane.handed_to, lane.stop)
                p.source_position = max(p.source_position, reach)
                p.done = lane.done

    async def run(self) -> None:
        """Copy until every lane has fetched up to its stop (forever when following)."""
        leaderless = 0
        while wanted := [ln for ln in self.lanes.values() if ln.wanted]:
            meta = (await self.session.metadata([self.topic])).to_object()
            leaders = partition_leaders(meta)
            by_leader: dict[int, list[_Lane]] = defaultdict(list)
            for lane in wanted:
                leader = leaders.get(TopicPartition(self.topic, lane.progress.selection.partition))
                if leader is not None and leader >= 0:
                    by_leader[leader].append(lane)
            leaderless = leaderless + 1 if sum(map(len, by_leader.values())) < len(wanted) else 0
            if leaderless > NO_LEADER_RETRIES:
                raise KsreError(f"partitions of source topic '{self.topic}' have had no leader for "
                                f"{NO_LEADER_RETRIES * 0.5:g} s; rerun the same command once they have one")
            moved = await asyncio.gather(*(self._leader_loop(node, lanes) for node, lanes in by_leader.items()))
            if any(moved) or leaderless:
                await asyncio.sleep(0.5)

    async def _leader_loop(self, node: int, lanes: list[_Lane]) -> bool:
        """Fetch and hand over until these lanes want nothing more; True when the leader moved."""
        def ask() -> asyncio.Task[dict[TopicPartition, FetchedPartition]] | None:
            at = {TopicPartition(self.topic, ln.progress.selection.partition): ln.fetched_to
                  for ln in sorted(lanes, key=lambda ln: not ln.starved) if ln.wanted}
            return asyncio.create_task(fetch_raw(self.session, node, at, max_bytes=COPY_FETCH_MAX_BYTES,
                                                 partition_max_bytes=COPY_PARTITION_FETCH_BYTES)) if at else None

        in_flight = ask()
        try:
            while in_flight is not None:
                asked, in_flight = in_flight, None
                answer = await asked
                moved = False
                handed: list[tuple[_Lane, list[tuple[BatchHeader, memoryview]], int]] = []
                for tp, fetched in answer.items():
                    lane = self.lanes[tp.partition]
                    if fetched.error_code in LEADER_MOVED:
                        moved = True
                        continue
                    if fetched.error_code == OFFSET_OUT_OF_RANGE:
                        raise KsreError(f"the source records of '{self.topic}' from the checkpointed position are "
                                        "gone (deleted by retention): the copy would have a gap; migrate again into "
                                        "a new --target-topic")
                    self.session.raise_for_code(fetched.error_code, f"reading {tp.topic}/{tp.partition}")
                    lane.stable = fetched.last_stable_offset
                    batches = list(split_batches(fetched.records))
                    lane.starved = not batches and bool(fetched.records)
                    if batches:
                        lane.fetched_to = max(lane.fetched_to, batches[-1][0].next_offset)
                    handed.append((lane, list(committed_only(batches, fetched.aborted)), lane.fetched_to))
                if not moved:
                    in_flight = ask()  # the next answer arrives while this one is written
                for lane, batches, reach in handed:
                    await self._hand(lane, batches)
                    lane.handed_to = max(lane.handed_to, reach)
                caught_up = [ln.progress.selection.target_partition for ln in lanes if ln.caught_up]
                if caught_up:  # nothing more to come soon: send what is buffered, wait for it
                    await asyncio.gather(*(self.writer.flush(t) for t in caught_up))
                self.settle()
                self.on_round()
                if moved:
                    return True
            return False
        finally:
            if in_flight is not None:  # stopped on an error: drop the prefetch, keep that error
                in_flight.cancel()
                await asyncio.wait([in_flight])
                if not in_flight.cancelled():
                    in_flight.exception()

    async def _hand(self, lane: _Lane, batches: list[tuple[BatchHeader, memoryview]]) -> None:
        p = lane.progress
        target = p.selection.target_partition
        for header, view in batches:
            start = max(p.source_position, lane.last_handed + 1)
            if header.next_offset <= start:
                continue  # already copied (a re-fetch after a leader move)
            if lane.stop is not None and header.base_offset >= lane.stop:
                return
            if (lane.skip == 0 and header.base_offset >= start and self.as_stored(header)
                    and (lane.stop is None or header.next_offset <= lane.stop)):
                self._expect(lane)
                lane.oldest.append((header.base_offset, header.first_timestamp))
                await self.writer.write_batch(target, RawBatch(header, view))
                lane.last_handed = header.last_offset
                self.batches_as_they_are += 1
            else:
                await self._hand_records(lane, DefaultRecordBatch(bytes(view)))

    def _expect(self, lane: _Lane) -> None:
        """Before the first record this run writes (after those a resumed run skips)."""
        if not lane.expected:
            self.writer.expect(lane.progress.selection.target_partition, lane.progress.target_next)
            lane.expected = True

    async def _hand_records(self, lane: _Lane, records: Iterable[Any]) -> None:
        p = lane.progress
        target = p.selection.target_partition
        first = True
        for record in records:
            if lane.stop is not None and record.offset >= lane.stop:
                break
            if record.offset < p.source_position or record.offset <= lane.last_handed:
                continue  # already copied
            if lane.skip > 0:
                p.record_written([record.offset], p.target_next)
                p.skipped_on_resume += 1
                lane.skip -= 1
                lane.last_handed = record.offset
                continue
            self._expect(lane)
            if first:
                lane.oldest.append((record.offset, record.timestamp))
                first = False
            await self.writer.write(target, record)
            lane.last_handed = record.offset


async def copy_records(source: ClusterConfig, target: ClusterConfig, source_topic: str, target_topic: str,
                       progress: list[PartitionProgress], stops: dict[int, int] | None, skip: dict[int, int],
                       settings: WriterSettings, states: Path, checkpoint_seconds: float, emit: Emit,
                       stable: dict[int, int]) -> tuple[int, int, float, int]:
    """Copy until every partition reaches its stop offset (``stops`` None: until cancelled). Returns
    (records, bytes, seconds, lag records at the end)."""
    lanes = [_Lane(p, None if stops is None else stops[p.selection.partition], skip.get(p.selection.partition, 0),
                   fetched_to=p.source_position, handed_to=p.source_position) for p in progress]
    by_target = {ln.progress.selection.target_partition: ln for ln in lanes}
    seen: dict[int, str] = {}
    started = time.monotonic()

    def on_written(target_partition: int, offsets: list[int], base: int) -> None:
        by_target[target_partition].progress.record_written(offsets, base)

    async def checkpoints() -> None:
        while True:
            await asyncio.sleep(checkpoint_seconds)
            await checkpoint(states, progress, seen)
            emit(Checkpointed())

    ticker = asyncio.create_task(checkpoints())
    try:
        async with KafkaSession(source) as session, TopicWriter(target, target_topic, settings, on_written) as writer:
            copier = Copier(session, source_topic, lanes, writer, settings, stable)

            def snapshot() -> MigrateProgress:
                lag_records, lag_seconds = copier.lag()
                return MigrateProgress(writer.records_written, writer.bytes_written, time.monotonic() - started,
                                       lag_records, lag_seconds, sum(ln.done for ln in lanes), len(lanes),
                                       stops is None)

            last_emit = 0.0

            def on_round() -> None:
                nonlocal last_emit
                if time.monotonic() - last_emit >= 0.5:
                    last_emit = time.monotonic()
                    emit(snapshot())

            copier.on_round = on_round
            await copier.run()
            await writer.flush()
            copier.settle()
        final = snapshot()
        emit(final)
        return writer.records_written, writer.bytes_written, time.monotonic() - started, final.lag_records
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        await asyncio.shield(checkpoint(states, progress, seen))
        emit(Checkpointed())
