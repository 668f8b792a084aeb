"""One worker of a backup set written by many processes (on one host or many), coordinated by Kafka.

Each worker joins the consumer group named by ``--workers-group`` through aiokafka's group membership
(sticky assignor, subscribed to the set's topics) only to be told which partitions are its own: it
pauses every partition it is assigned (its consumer never fetches a record) and never commits an
offset (``enable_auto_commit=False``, no commit call), yet polls often enough to stay in the group.
It backs its partitions up with the set engine's fetch loop into the one set the group agreed on
(:mod:`.workers_set`); each partition's durable state is fenced by the owner's generation
(:mod:`.workers_fence`). On a rebalance the worker checkpoints what it holds before giving it up; a
partition's new owner resumes from its last durable offset. The worker that sees every partition done
seals the set; the others see ``set.json`` and return it. With ``--continuous`` each set is one link of
a chain and the worker goes on to the next link (:mod:`.workers_chain`) with the same consumer, so
the group does not rebalance at every roll.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
from aiokafka import TopicPartition as AioTP
from aiokafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.fetch_loop import FetchSettings, LoopHooks, checkpoint_all, fetch_until_done
from kafka_sre_tui.engine.backup.partition import PartitionBackup
from kafka_sre_tui.engine.backup.run import prepare_base
from kafka_sre_tui.engine.backup.set_events import LinkSealed, SetResult
from kafka_sre_tui.engine.backup.set_plan import SetRequest, validate_set_request
from kafka_sre_tui.engine.backup.set_run import check_same_topics, link_notes, resume_hint
from kafka_sre_tui.engine.backup.workers_chain import LinkFollower
from kafka_sre_tui.engine.backup.workers_fence import Fenced, Owner, claim, read_state
from kafka_sre_tui.engine.backup.workers_label import WORKER_CLIENT_ID
from kafka_sre_tui.engine.backup.workers_set import FINISHING, JoinedSet, join_set, seal_if_done
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.inspect.groups import describe_group
from kafka_sre_tui.engine.jobs import Checkpointed, Retrying
from kafka_sre_tui.engine.kafka.retry import retry_while_away
from kafka_sre_tui.engine.kafka.session import KafkaSession, client_settings
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.storage.backup_set import SET_MANIFEST, SetManifest, member_dir, read_set_manifest
from kafka_sre_tui.engine.storage.codecs import codec
from kafka_sre_tui.engine.storage.encryption import check_key
from kafka_sre_tui.engine.storage.manifest import MANIFEST

SESSION_TIMEOUT_MS = 10_000  # a killed worker's partitions move after this (broker minimum: 6 s)
HEARTBEAT_MS = 1_000
MAX_POLL_INTERVAL_MS = 300_000
REBALANCE_TIMEOUT_MS = 60_000  # a revoking worker checkpoints what it holds within this
POLL_MS = 200

Now = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class WorkerAssigned:
    """The coordinator gave this worker partitions: ``claimed`` it backs up, ``done`` were complete,
    ``refused`` a newer generation's owner still holds (this worker is the stale one)."""

    set_id: str
    worker: str
    generation: int
    claimed: int
    done: int
    refused: int


@dataclass(frozen=True)
class WorkerProgress:
    set_id: str
    worker: str
    generation: int
    partitions: int
    partitions_done: int
    records: int
    bytes: int


@dataclass(frozen=True)
class WorkerFenced:
    set_id: str
    worker: str
    message: str


WorkerEvent = WorkerAssigned | WorkerProgress | WorkerFenced | LinkSealed | Checkpointed | Retrying
WorkerEmit = Callable[[WorkerEvent], None]


def _ignore(_: WorkerEvent) -> None:
    return None


class WorkerStopped(KsreError):
    """Asked to stop (SIGINT/SIGTERM): what it held is checkpointed; the group's other workers go on."""


async def backup_set_worker(cluster: ClusterConfig, request: SetRequest, group: str, emit: WorkerEmit = _ignore,
                            now: Now = _utc_now, stop: asyncio.Event | None = None,
                            check_seconds: float = 1.0) -> SetResult:
    """Back up, as one worker of ``group``, the partitions the group's coordinator assigns it, into the
    set the group shares; returns the set once it is sealed (by this worker or another). Continuous:
    writes the group's chain of links (:mod:`.workers_chain`) until ``stop``; returns the newest link
    it saw sealed."""
    validate_set_request(request)
    if not group.strip() or "/" in group:
        raise ConfigError(f"--workers-group '{group}': give a group name without '/'")
    base = prepare_base(request.base_path)
    started = now()
    chain = LinkFollower(base, request, group, now, emit) if request.continuous else None

    async def attempt(_again: bool) -> SetResult:  # again: rejoin the same set and the group
        async with KafkaSession(cluster) as session:
            joined = await join_set(session, base, request, group, started, now)
            if isinstance(joined, SetManifest):
                return SetResult(joined.set_id, base / joined.set_id, joined, (joined.set_id,),
                                 ("the group's other workers completed this set",))
            worker = _Worker(session, cluster, joined, request, group, emit, now, chain)
            manifest = await worker.run(stop or asyncio.Event(), check_seconds)
            if manifest is None:
                assert chain is not None
                return _stopped(chain, worker.joined)
        return SetResult(joined.set_id, joined.folder, manifest, (joined.set_id,), tuple(link_notes(manifest)))

    return await retry_while_away(attempt, cluster.retry_seconds, emit)


def _stopped(chain: LinkFollower, writing: JoinedSet | None) -> SetResult:
    """A stopped continuous worker: the newest link it saw sealed; the link in progress stays."""
    kept = (f"link {writing.set_id} in progress stays for the group's other workers or its next start"
            if writing is not None else None)
    if chain.last is None:
        raise WorkerStopped(f"worker stopped before it saw a link sealed; {kept or 'nothing was started'}")
    return SetResult(chain.last.set_id, chain.base / chain.last.set_id, chain.last, tuple(chain.sealed),
                     (kept,) if kept else ())


class _Worker:
    def __init__(self, session: KafkaSession, cluster: ClusterConfig, joined: JoinedSet, request: SetRequest,
                 group: str, emit: WorkerEmit, now: Now, chain: LinkFollower | None) -> None:
        self.session, self.cluster, self.request = session, cluster, request
        self.group, self.emit, self.now, self.chain = group, emit, now, chain
        self.joined: JoinedSet | None = None  # the set (link) being written; None between two links
        self.partitions: set[TopicPartition] = set()  # the set's (link's) partitions
        self._use(joined)
        self.subscribed = self._topics()
        self.consumer: AIOKafkaConsumer | None = None
        self.task: asyncio.Task[None] | None = None
        self.task_set_id = joined.set_id
        self.failure: BaseException | None = None  # raised by the main loop, not lost in a rebalance callback
        self.worker_id = "?"

    def _use(self, joined: JoinedSet) -> None:
        check_key(joined.set_id, joined.plan.encryption, self.request.encryption_key)
        self.joined = joined
        self.partitions = {TopicPartition(m.topic["name"], p.partition) for m in joined.members
                           for p in m.partitions}

    def _topics(self) -> list[str]:
        return sorted({tp.topic for tp in self.partitions})

    async def run(self, stop: asyncio.Event, check_seconds: float) -> SetManifest | None:
        """Until the set is sealed (one-shot: its manifest), or until ``stop`` (continuous: None)."""
        consumer = AIOKafkaConsumer(
            **{**client_settings(self.cluster), "client_id": WORKER_CLIENT_ID}, group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="latest", partition_assignment_strategy=(StickyPartitionAssignor,),
            session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=HEARTBEAT_MS,
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS, rebalance_timeout_ms=REBALANCE_TIMEOUT_MS,
            max_partition_fetch_bytes=1 << 10)
        self.consumer = consumer
        consumer.subscribe(topics=self.subscribed, listener=_Listener(self))
        await consumer.start()
        last_check = 0.0
        try:
            while True:
                await consumer.getmany(timeout_ms=POLL_MS)  # every partition is paused: nothing comes back
                self._raise_if_failed()
                if stop.is_set():
                    if self.chain is not None:
                        return None  # the caller reports the chain
                    assert self.joined is not None
                    raise WorkerStopped(f"worker of set {self.joined.set_id} stopped; the group's other workers "
                                        f"go on (or: kafka-sre-tui backup --resume {self.joined.set_id})")
                if time.monotonic() - last_check < check_seconds:
                    continue
                last_check = time.monotonic()
                if self.joined is None:
                    await self._next_link()
                    continue
                sealed = await self._sealed(self.joined)
                if sealed is not None:
                    if self.chain is None:
                        return sealed
                    run, self.joined = self.joined.run, None
                    await self.stop_task()
                    await self.chain.on_sealed(self.session, sealed, run)
        finally:
            await self.stop_task()
            await consumer.stop()  # leaves the group; nothing is committed (auto-commit is off)

    async def _sealed(self, joined: JoinedSet) -> SetManifest | None:
        """The set's manifest once it is sealed: seen, or sealed by this worker when every partition is done."""
        if await asyncio.to_thread((joined.folder / SET_MANIFEST).exists):
            return read_set_manifest(joined.folder)[0]
        if self.worker_id != "?" and (self.task is None or self.task.done()):  # a sealer is a group member
            members: set[str] | None = None  # a sealer killed while sealing is taken over once it left the group
            if await asyncio.to_thread((joined.folder / FINISHING).exists):
                members = {m.member_id for m in (await describe_group(self.session, self.group)).members}
            in_group = members.__contains__ if members is not None else (lambda _: True)
            return await asyncio.to_thread(seal_if_done, joined, self.worker_id, self.now, in_group)
        return None

    async def _next_link(self) -> None:
        """Between two links: join or plan the next one when it is time; the consumer stays in the group."""
        assert self.chain is not None and self.consumer is not None
        joined = await self.chain.next_link(self.session)
        if joined is None:
            return
        self._use(joined)
        topics = self._topics()
        if topics != self.subscribed:  # a topic came or went: the group rebalances onto the new topics
            self.subscribed = topics
            self.consumer.subscribe(topics=topics, listener=_Listener(self))
            return
        known = {TopicPartition(t, p) for t in topics for p in self.consumer.partitions_for_topic(t) or ()}
        if not self.partitions <= known:  # a topic gained partitions: the group rebalances once it sees them
            await self.consumer._client.force_metadata_update()
        if self.task is None and self.consumer.assignment():
            self.start_task(self.consumer.assignment())

    def _raise_if_failed(self) -> None:
        if self.failure is not None:
            raise self.failure
        if self.task is not None and self.task.done():
            self._collect(self.task)
            self.task = None
            if self.failure is not None:
                raise self.failure

    def _collect(self, task: asyncio.Task[None]) -> None:
        """A finished backup task: fenced is reported and survived, any other error fails the worker."""
        failed = None if task.cancelled() else task.exception()
        if isinstance(failed, Fenced):
            self.emit(WorkerFenced(self.task_set_id, self.worker_id, str(failed)))
        elif failed is not None and self.failure is None:
            self.failure = failed

    async def stop_task(self) -> None:
        """Stop backing up (a rebalance revokes the partitions): the fetch loop checkpoints what it holds."""
        task, self.task = self.task, None
        if task is None:
            return
        if not task.done():
            task.cancel()
            await asyncio.wait([task])
        self._collect(task)

    def start_task(self, assigned: set[AioTP]) -> None:
        consumer = self.consumer
        assert consumer is not None
        consumer.pause(*assigned)  # membership only: this consumer never fetches a record
        coordinator = consumer._coordinator  # aiokafka keeps the generation and member id there
        assert coordinator is not None
        owner = Owner(coordinator.member_id, coordinator.generation)
        self.worker_id = owner.worker
        if self.joined is None:
            return  # between two links: the next link starts a task on this assignment
        mine = {TopicPartition(tp.topic, tp.partition) for tp in assigned} & self.partitions
        previous, self.task_set_id = self.task, self.joined.set_id
        if previous is not None:
            previous.cancel()  # a link started on an assignment a rebalance was just replacing
        self.task = asyncio.create_task(self._back_up(self.joined, mine, owner, previous))

    async def _back_up(self, joined: JoinedSet, assigned: set[TopicPartition], owner: Owner,
                       previous: asyncio.Task[None] | None = None) -> None:
        if previous is not None:  # it checkpoints what it held before this task claims anything
            await asyncio.wait([previous])
            self._collect(previous)
        folder, set_id = joined.folder, joined.set_id
        codec_obj, level = codec(joined.plan.compression["codec"], joined.plan.compression["level"])
        members_now = {m.member_id for m in (await describe_group(self.session, self.group)).members}
        parts: dict[TopicPartition, PartitionBackup] = {}
        done = refused = 0
        plans = {TopicPartition(m.topic["name"], p.partition): (m, p) for m in joined.members for p in m.partitions}
        for tp in sorted(assigned):
            member, part = plans[tp]
            where = member_dir(folder, member.backup_id)
            if await asyncio.to_thread((where / MANIFEST).exists) or \
                    (await asyncio.to_thread(read_state, where, part))[0].done:
                done += 1
                continue
            got = await asyncio.to_thread(claim, where, part, owner, members_now.__contains__)
            if got is None:
                refused += 1
                continue
            state, fence = got
            cipher = check_key(member.backup_id, member.encryption, self.request.encryption_key)
            parts[tp] = PartitionBackup(where, state, codec_obj, level, None, cipher, save_state=fence.save,
                                        segment_tag=f"-g{owner.generation}")
        self.emit(WorkerAssigned(set_id, owner.worker, owner.generation, len(parts), done, refused))
        if not parts:
            return
        progress = _Progress(set_id, owner, parts, self.emit)
        members = [m for m in joined.members if any(tp.topic == m.topic["name"] for tp in parts)]

        async def same_topics() -> None:
            await check_same_topics(self.session, set_id, members)

        hooks = LoopHooks(check_topics=same_topics, progress=progress.emit_maybe,
                          checkpointed=lambda: self.emit(Checkpointed()), seconds_ahead=progress.seconds_ahead,
                          what=f"set {set_id}", resume_hint=resume_hint(set_id))
        settings = FetchSettings(fetch_max_bytes=32 << 20, partition_fetch_max_bytes=8 << 20,
                                 rate_limit_mb_s=self.request.rate_limit_mb_s,
                                 checkpoint_seconds=self.request.checkpoint_seconds, prefetch=True)
        await fetch_until_done(self.session, parts, settings, hooks)
        await checkpoint_all(parts)
        progress.emit_now()


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: _Worker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: set[AioTP]) -> None:
        await self.worker.stop_task()

    async def on_partitions_assigned(self, assigned: set[AioTP]) -> None:
        self.worker.start_task(assigned)


class _Progress:
    def __init__(self, set_id: str, owner: Owner, parts: dict[TopicPartition, PartitionBackup],
                 emit: WorkerEmit) -> None:
        self.set_id, self.owner, self.parts, self.emit = set_id, owner, parts, emit
        self.started = time.monotonic()
        self.initial_bytes = sum(p.raw_bytes for p in parts.values())
        self._last = 0.0

    def seconds_ahead(self, limit_mb_s: float) -> float:
        read = sum(p.raw_bytes for p in self.parts.values()) - self.initial_bytes
        return max(0.0, read / 1e6 / limit_mb_s - (time.monotonic() - self.started))

    def emit_maybe(self) -> None:
        if time.monotonic() - self._last >= 0.5:
            self.emit_now()

    def emit_now(self) -> None:
        self._last = time.monotonic()
        each = self.parts.values()
        self.emit(WorkerProgress(self.set_id, self.owner.worker, self.owner.generation, len(self.parts),
                                 sum(p.done for p in each), sum(p.records for p in each),
                                 sum(p.raw_bytes for p in each)))
