"""The timestamp of the record at a committed offset, read cheaply.

One consumer (no group) for the whole run, assigned to the lagging partitions whose committed offset
changed since the last look: seek to the committed offset, one small fetch per partition, keep the
first record, pause the partition. Results are cached per committed offset, so a stuck partition
costs nothing after its first look. What is not answered within the time budget is left to
interpolation. The same fetch tells when the gap up to the last stable offset holds no readable
record at all (only transaction markers or aborted records): that lag is really 0.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as AioTP
from aiokafka import errors as kerr

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.drain.samples import RecordAt
from kafka_sre_tui.engine.kafka.session import client_settings
from kafka_sre_tui.engine.models import TopicPartition

MAX_LOOKUPS = 256  # partitions looked up per sample at most (largest lag first); the rest interpolate
PARTITION_FETCH_BYTES = 64 * 1024
FETCH_BYTES = 4 * 1024 * 1024
POLL_SLICE = 0.05

MARKERS_ONLY = "markers only"
Found = RecordAt | str  # a record, or MARKERS_ONLY


class RecordTimestamps:
    def __init__(self, cluster: ClusterConfig, budget_seconds: float = 1.0) -> None:
        self._cluster = cluster
        self._budget = budget_seconds
        self._consumer: AIOKafkaConsumer | None = None
        self._cache: dict[TopicPartition, tuple[int, int | None, Found]] = {}  # committed, end (markers), found
        self.fetched = 0  # partitions fetched so far: what this costs, for reports and tests
        self.failed: str | None = None  # why lookups stopped working (then everything interpolates)

    async def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await consumer.stop()

    async def lookup(self, wanted: Mapping[TopicPartition, tuple[int, int]]) -> dict[TopicPartition, Found]:
        """For each partition -> (committed, end offset) with lag: what the fetch found."""
        result: dict[TopicPartition, Found] = {}
        todo: dict[TopicPartition, tuple[int, int]] = {}
        for tp, (committed, end) in wanted.items():
            cached = self._cache.get(tp)
            if cached and cached[0] == committed and (cached[1] is None or cached[1] == end):
                result[tp] = cached[2]
            else:
                todo[tp] = (committed, end)
        self._cache = {tp: v for tp, v in self._cache.items() if tp in wanted}
        if not todo or self.failed:
            return result
        biggest = sorted(todo, key=lambda tp: todo[tp][0] - todo[tp][1])[:MAX_LOOKUPS]
        try:
            found = await self._fetch({tp: todo[tp] for tp in biggest})
        except (kerr.KafkaError, OSError, TimeoutError) as exc:
            self.failed = f"{type(exc).__name__}: {exc}".splitlines()[0]
            await self.close()
            return result
        for tp, value in found.items():
            committed, end = todo[tp]
            self._cache[tp] = (committed, end if value == MARKERS_ONLY else None, value)
            result[tp] = value
        return result

    async def _start(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            settings: dict[str, Any] = client_settings(self._cluster)
            consumer = AIOKafkaConsumer(
                **settings, group_id=None, enable_auto_commit=False, isolation_level="read_committed",
                auto_offset_reset="earliest", max_partition_fetch_bytes=PARTITION_FETCH_BYTES,
                fetch_max_bytes=FETCH_BYTES, fetch_max_wait_ms=100)
            async with asyncio.timeout(self._cluster.request_timeout_seconds):
                await consumer.start()
            self._consumer = consumer
        return self._consumer

    async def _fetch(self, todo: Mapping[TopicPartition, tuple[int, int]]) -> dict[TopicPartition, Found]:
        consumer = await self._start()
        tps = {AioTP(tp.topic, tp.partition): tp for tp in todo}
        if set(consumer.assignment()) != set(tps):
            consumer.assign(list(tps))
        consumer.resume(*tps)
        for atp, tp in tps.items():
            consumer.seek(atp, todo[tp][0])
        self.fetched += len(tps)
        found: dict[TopicPartition, Found] = {}
        pending = set(tps)
        try:
            async with asyncio.timeout(self._budget):
                await self._read(consumer, tps, todo, pending, found)
        except TimeoutError:
            pass  # what was not answered in time is interpolated this once
        consumer.pause(*pending)
        return found

    async def _read(self, consumer: AIOKafkaConsumer, tps: Mapping[AioTP, TopicPartition],
                    todo: Mapping[TopicPartition, tuple[int, int]], pending: set[AioTP],
                    found: dict[TopicPartition, Found]) -> None:
        while pending:
            try:
                batch = await consumer.getmany(*pending, timeout_ms=int(POLL_SLICE * 1000))
            except kerr.RecordTooLargeError:
                continue  # the fetcher skips past it; the next record's age is then a lower bound
            for atp, records in batch.items():
                if records and atp in pending:
                    found[tps[atp]] = RecordAt(records[0].offset, records[0].timestamp, records[0].key)
                    pending.discard(atp)
                    consumer.pause(atp)
            for atp in list(pending):
                if await consumer.position(atp) >= todo[tps[atp]][1]:
                    found[tps[atp]] = MARKERS_ONLY  # read up to the last stable offset and got nothing
                    pending.discard(atp)
                    consumer.pause(atp)
