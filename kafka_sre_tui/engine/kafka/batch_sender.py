"""Send stored record batches as they are: the topic writer's fast path (restore, see restore_run).

Why not through the producer's own sender: aiokafka encodes a produce request by nesting
``b"".join`` per field, copying every record byte about eight times; for batches that are only
passed through, that is a large share of the work. This sends them over the producer's client, with
the producer's idempotent state (its id, epoch and per-partition sequence numbers, which its own
batches use too), in a Produce v7 request encoded with one join: per leader up to two requests at a
time (one is on its way while the broker writes the other), each carrying the waiting batch of
every partition. A retriable error sends the same bytes with the same sequence numbers again, so the
broker writes them once; anything else fails the batch (the writer then stops; resume continues).

Sequence numbers are taken when a batch is first put into a request, so the writer must send a
partition's next batch (by either path) only once the previous one is acknowledged, which it does:
two requests in flight never hold the same partition.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka import errors as kerr
from aiokafka.protocol.api import Request
from aiokafka.protocol.produce import ProduceRequest_v7

from kafka_sre_tui.engine.kafka.batches import HEADER_SIZE, RawBatch, client_header

RETRY_BACKOFF_SECONDS = 0.1
REQUESTS_IN_FLIGHT = 2  # per leader


class _ProduceBatches_v7(ProduceRequest_v7):
    """Produce v7 (Kafka 2.1 to 4.x) whose partitions hold ready-made pieces of batches."""

    def encode(self) -> bytes:
        parts: list[Any] = [struct.pack(">hhii", -1, self.required_acks, self.timeout, len(self.topics))]
        for topic, partitions in self.topics:
            name = topic.encode()
            parts += [struct.pack(">h", len(name)), name, struct.pack(">i", len(partitions))]
            for partition, pieces in partitions:
                parts.append(struct.pack(">ii", partition, sum(len(p) for p in pieces)))
                parts += pieces
        return b"".join(parts)


class _ProduceBatches(Request[_ProduceBatches_v7]):
    API_KEY = 0

    def __init__(self, timeout_ms: int, topic: str, partitions: list[tuple[int, list[Any]]]) -> None:
        self._timeout_ms, self._topic, self._partitions = timeout_ms, topic, partitions

    def build(self, request_struct_class: type[_ProduceBatches_v7]) -> _ProduceBatches_v7:
        return request_struct_class(None, -1, self._timeout_ms, [(self._topic, self._partitions)])  # acks=all


@dataclass
class _Pending:
    partition: int
    batch: RawBatch
    done: asyncio.Future[int]  # the base offset the broker gave the batch
    deadline: float
    pieces: list[Any] | None = None  # the bytes sent, fixed once (with their sequence number)


@dataclass
class _Leader:
    waiting: list[_Pending] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class BatchSender:
    """``sender.send(partition, batch)`` -> a future of the batch's base offset in the target."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, request_timeout_ms: int,
                 give_up_seconds: float) -> None:
        self._client = producer.client
        self._state = producer._txn_manager  # the idempotent producer's id, epoch and sequence numbers
        self._topic, self._timeout_ms, self._give_up = topic, request_timeout_ms, give_up_seconds
        self._leaders: dict[int, _Leader] = defaultdict(_Leader)
        self._unplaced: list[_Pending] = []  # no known leader yet
        self._placing: asyncio.Task[None] | None = None

    def send(self, partition: int, batch: RawBatch) -> asyncio.Future[int]:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._place(_Pending(partition, batch, done, time.monotonic() + self._give_up))
        return done

    async def close(self) -> None:
        tasks = [t for t in (self._placing, *(t for lead in self._leaders.values() for t in lead.tasks))
                 if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for pending in [*self._unplaced, *(p for lead in self._leaders.values() for p in lead.waiting)]:
            if not pending.done.done():
                pending.done.cancel()

    def _place(self, pending: _Pending) -> None:
        leader = self._client.cluster.leader_for_partition(TopicPartition(self._topic, pending.partition))
        if leader is None or leader < 0:
            self._unplaced.append(pending)
            if self._placing is None or self._placing.done():
                self._placing = asyncio.create_task(self._place_unplaced())
            return
        lead = self._leaders[leader]
        lead.waiting.append(pending)
        if len(lead.tasks) < REQUESTS_IN_FLIGHT:
            task = asyncio.create_task(self._run(leader, lead))
            lead.tasks.add(task)
            task.add_done_callback(lead.tasks.discard)

    async def _place_unplaced(self) -> None:
        while self._unplaced:
            await asyncio.sleep(RETRY_BACKOFF_SECONDS)
            self._client.add_topic(self._topic)  # metadata covers it from now on
            await self._client.force_metadata_update()
            pending, self._unplaced = self._unplaced, []
            for p in pending:
                if time.monotonic() > p.deadline:
                    p.done.set_exception(kerr.LeaderNotAvailableError())
                else:
                    self._place(p)

    async def _run(self, leader: int, lead: _Leader) -> None:
        """Requests to ``leader``, one after the other, while batches wait for it."""
        await asyncio.sleep(0)  # let every partition woken by the same response add its next batch
        while lead.waiting:
            sending, lead.waiting = [p for p in lead.waiting if not p.done.done()], []
            try:
                retry = await self._request(leader, sending)
            except Exception as exc:  # not a Kafka answer: fail these batches rather than leave them waiting
                for p in sending:
                    if not p.done.done():
                        p.done.set_exception(exc)
                continue
            if retry:
                await asyncio.sleep(RETRY_BACKOFF_SECONDS)
                for p in retry:
                    self._place(p)  # the leader may have moved

    def _pieces(self, pending: _Pending) -> list[Any]:
        if pending.pieces is None:  # the first time: take the partition's next sequence number
            tp = TopicPartition(self._topic, pending.partition)
            sequence = self._state.sequence_number(tp)
            self._state.increment_sequence_number(tp, pending.batch.records)
            data = pending.batch.data
            pending.pieces = [client_header(data, self._state.producer_id, self._state.producer_epoch, sequence),
                              data[HEADER_SIZE:]]
        return pending.pieces

    async def _request(self, leader: int, sending: list[_Pending]) -> list[_Pending]:
        """Send ``sending`` (one batch per partition at most); returns those to send again."""
        if not sending:
            return []
        by_partition = {p.partition: p for p in sending}
        assert len(by_partition) == len(sending), "one batch per partition in flight"
        request = _ProduceBatches(self._timeout_ms, self._topic,
                                  [(p.partition, self._pieces(p)) for p in sending])
        try:
            response = await self._client.send(leader, request)
        except kerr.KafkaError as exc:  # no answer (connection lost, timed out): the same bytes again
            if getattr(exc, "invalid_metadata", False):
                self._client.force_metadata_update()
            return self._retry_or_fail(sending, exc)
        retry = []
        for _topic, partitions in response.topics:
            for partition, code, offset, *_rest in partitions:
                pending = by_partition.pop(partition, None)
                if pending is None or pending.done.done():
                    continue
                error = kerr.for_code(code)
                if error is kerr.NoError:
                    pending.done.set_result(offset)
                    continue
                if getattr(error, "invalid_metadata", False):
                    self._client.force_metadata_update()
                # not retried, among others: DuplicateSequenceNumber (written before, offset unknown: the
                # writer stops and a resume counts it) and error 87, INVALID_RECORD (unknown to aiokafka)
                refused = kerr.KafkaError(f"error code {code}") if error is kerr.UnknownError else error()
                retry += self._retry_or_fail([pending], refused)
        return retry + self._retry_or_fail(list(by_partition.values()), kerr.KafkaError("no answer for the batch"))

    def _retry_or_fail(self, pending: list[_Pending], exc: kerr.KafkaError) -> list[_Pending]:
        retry = []
        for p in pending:
            if exc.retriable and time.monotonic() < p.deadline:
                retry.append(p)
            elif not p.done.done():
                p.done.set_exception(exc)
        return retry
