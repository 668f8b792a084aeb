"""Write records into explicit partitions of one topic, exactly as given: the one writer of restore
and migration.

Guarantees, per target partition:
- an idempotent producer with ``acks=all``: a retried batch is never written twice;
- one batch at a time: the next batch is submitted only once the previous one is acknowledged, so
  what the partition holds is always a prefix of what was written (never a hole a later batch
  jumped over). aiokafka sends one request per broker at a time anyway, carrying a batch of every
  ready partition, so this costs little;
- records keep their order, key, value, headers (order, duplicates, null values) and timestamp
  (sent as CreateTime; ``keep_timestamps=False`` lets the producer stamp the time of writing);
- a stored batch (``write_batch``, restore's fast path) is sent as it is stored, as a produce batch of
  its own, by ``batch_sender.BatchSender`` with this producer's idempotent state: only the fields a
  producer owns are rewritten (see ``storage.batches.client_header``);
- the target offset of every record comes from the produce result, and must be the one expected
  (``expect``): anything else means another producer writes into the partition, and the writer stops;
- bounded memory: per partition one batch being filled and one in flight;
- a rate limit in MB/s over the bytes of keys, values and headers (of a stored batch: its size).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.producer.message_accumulator import BatchBuilder

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import KafkaRequestFailed, KsreError
from kafka_sre_tui.engine.kafka.batch_sender import BatchSender
from kafka_sre_tui.engine.kafka.batches import RawBatch
from kafka_sre_tui.engine.kafka.session import client_settings, translate_error


class SourceRecord(Protocol):
    """What the writer needs of a record (a backup's StoredRecord, a fetched ConsumerRecord)."""

    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes | None]]: ...


Written = Callable[[int, list[int], int], None]  # (target partition, source offsets, target base offset)


@dataclass(frozen=True)
class WriterSettings:
    max_batch_bytes: int = 1 << 20  # keep at or under the target's max.message.bytes
    rate_limit_mb_s: float | None = None
    keep_timestamps: bool = True
    compression: str | None = None  # producer compression: gzip, snappy, lz4, zstd
    stall_seconds: float = 120.0  # no acknowledgement for this long: give up (resume later)


class TargetChanged(KsreError):
    """The target partition's offsets are not the ones this writer expects."""


@dataclass
class _Lane:
    partition: int
    builder: BatchBuilder | None = None
    offsets: list[int] = field(default_factory=list)
    bytes: int = 0  # keys, values and headers of the batch being filled
    expected: int | None = None
    in_flight: asyncio.Task[None] | None = None


def record_bytes(record: SourceRecord) -> int:
    return (len(record.key or b"") + len(record.value or b"")
            + sum(len(k) + len(v or b"") for k, v in record.headers))


class TopicWriter:
    """``async with TopicWriter(cluster, topic, settings, on_written) as w: await w.write(p, record)``."""

    def __init__(self, cluster: ClusterConfig, topic: str, settings: WriterSettings, on_written: Written,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        self.cluster, self.topic, self.settings, self.on_written = cluster, topic, settings, on_written
        self._clock, self._sleep = clock, sleep
        self._lanes: dict[int, _Lane] = {}
        self._producer = AIOKafkaProducer(**client_settings(cluster), enable_idempotence=True, acks="all",
                                          max_batch_size=settings.max_batch_bytes,
                                          compression_type=settings.compression)
        self._batches = BatchSender(self._producer, topic, int(cluster.request_timeout_seconds * 1000),
                                    settings.stall_seconds)
        self._started = 0.0
        self._paced = 0
        self.bytes_submitted = 0
        self.records_written = 0
        self.bytes_written = 0

    async def __aenter__(self) -> TopicWriter:
        try:
            async with asyncio.timeout(self.cluster.request_timeout_seconds):
                await self._producer.start()
        except Exception as exc:
            await self._stop()
            raise translate_error(exc, self.cluster, f"starting a producer for topic '{self.topic}'") from exc
        self._started = self._clock()
        return self

    async def __aexit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            await self.flush()
        else:
            for lane in self._lanes.values():
                if lane.in_flight is not None:
                    lane.in_flight.cancel()
        await self._stop()

    async def _stop(self) -> None:
        await self._batches.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.cluster.request_timeout_seconds):
                await self._producer.stop()

    def expect(self, partition: int, target_offset: int) -> None:
        """The offset the next record written to ``partition`` must get."""
        self._lane(partition).expected = target_offset

    def _lane(self, partition: int) -> _Lane:
        lane = self._lanes.get(partition)
        if lane is None:
            lane = self._lanes[partition] = _Lane(partition)
        return lane

    async def write(self, partition: int, record: SourceRecord) -> None:
        lane = self._lane(partition)
        timestamp = record.timestamp if self.settings.keep_timestamps else None
        headers = list(record.headers)
        if lane.builder is None:
            lane.builder = self._producer.create_batch()
        if lane.builder.append(timestamp=timestamp, key=record.key, value=record.value, headers=headers) is None:
            await self._submit(lane)
            lane.builder = self._producer.create_batch()
            lane.builder.append(timestamp=timestamp, key=record.key, value=record.value, headers=headers)
        size = record_bytes(record)
        lane.offsets.append(record.offset)
        lane.bytes += size
        self.bytes_submitted += size

    async def write_batch(self, partition: int, batch: RawBatch) -> None:
        """Send a stored batch as it is stored, after the records written before it. The caller
        chooses the batch: ``batch.header.resendable``, at most ``max_batch_bytes``, timestamps kept."""
        if not batch.header.resendable:
            raise ValueError(f"batch at offset {batch.first_offset} cannot be sent as stored")
        lane = self._lane(partition)
        if lane.offsets:
            await self._submit(lane)
        offsets = list(range(batch.first_offset, batch.first_offset + batch.records))
        self.bytes_submitted += len(batch.data)
        await self._send(lane, batch, offsets, len(batch.data))

    async def flush(self, partition: int | None = None) -> None:
        """Submit what is buffered and wait until it is acknowledged."""
        lanes = [self._lanes[partition]] if partition is not None and partition in self._lanes else (
            [] if partition is not None else list(self._lanes.values()))
        for lane in lanes:
            if lane.offsets:
                await self._submit(lane)
        for lane in lanes:
            await self._settled(lane)

    async def _settled(self, lane: _Lane) -> None:
        task, lane.in_flight = lane.in_flight, None
        if task is not None:
            await task

    async def _submit(self, lane: _Lane) -> None:
        builder, offsets, paced = lane.builder, lane.offsets, lane.bytes
        lane.builder, lane.offsets, lane.bytes = None, [], 0
        if builder is None or not offsets:
            await self._settled(lane)
            return
        await self._send(lane, builder, offsets, paced)

    async def _send(self, lane: _Lane, builder: BatchBuilder | RawBatch, offsets: list[int], paced: int) -> None:
        await self._settled(lane)  # one batch in flight per partition: what is written stays a prefix
        if self.settings.rate_limit_mb_s:  # send a batch only once the limit allows all of it
            self._paced += paced
            ahead = self._paced / 1e6 / self.settings.rate_limit_mb_s - (self._clock() - self._started)
            if ahead > 0:
                await self._sleep(ahead)
        if isinstance(builder, RawBatch):
            size = len(builder.data)
            sent: Awaitable[int] = self._batches.send(lane.partition, builder)
        else:
            size = builder.size()
            try:
                future = await self._producer.send_batch(builder, self.topic, partition=lane.partition)
            except Exception as exc:
                raise translate_error(exc, self.cluster, f"writing to {self.topic}/{lane.partition}") from exc
            sent = _base_offset(future)
        lane.in_flight = asyncio.create_task(self._acknowledged(lane, sent, offsets, size))

    async def _acknowledged(self, lane: _Lane, sent: Awaitable[int], offsets: list[int], size: int) -> None:
        where = f"{self.topic}/{lane.partition}"
        try:
            async with asyncio.timeout(self.settings.stall_seconds):
                base = await sent
        except TimeoutError:
            raise KafkaRequestFailed(f"writing to {where} on cluster '{self.cluster.name}': no acknowledgement "
                                     f"for {self.settings.stall_seconds:g} s", retriable=True) from None
        except Exception as exc:
            raise translate_error(exc, self.cluster, f"writing to {where}") from exc
        if lane.expected is not None and base != lane.expected:
            raise TargetChanged(f"writing to {where} on cluster '{self.cluster.name}': the records landed at offset "
                                f"{base}, expected {lane.expected}; another producer is writing into this "
                                "partition; stop it, then resume")
        lane.expected = base + len(offsets)
        self.records_written += len(offsets)
        self.bytes_written += size
        self.on_written(lane.partition, offsets, base)


async def _base_offset(future: Awaitable[Any]) -> int:
    return int((await future).offset)
