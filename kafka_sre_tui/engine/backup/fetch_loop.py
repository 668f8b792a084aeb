"""The read side of every backup: one fetch loop per partition leader, across all the partitions of
all the topics being backed up (one topic, or a whole set).

Each loop asks for all its partitions at once and keeps the next request in flight while worker
threads compress and write the previous answer. Every ``checkpoint_seconds`` each partition seals its
segment and records its progress. Memory and open files stay bounded whatever the number of
partitions: a partition that reached its end is sealed at once, and past ``memory_budget`` bytes of
open blocks or ``max_open_segments`` open segment files (a quarter of ``ulimit -n``, at most 256) the
fullest partitions are sealed early; the leaders' loops share the budgets.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kafka_sre_tui.engine.backup.changes import TopicRecreated
from kafka_sre_tui.engine.backup.partition import PartitionBackup
from kafka_sre_tui.engine.errors import KafkaRequestFailed, KsreError
from kafka_sre_tui.engine.kafka.batches import whole_batches_end
from kafka_sre_tui.engine.kafka.fetch import LEADER_MOVED, OFFSET_OUT_OF_RANGE, FetchedPartition, fetch_raw
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offsets import EARLIEST, list_offsets
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition

_TOPIC_GONE = {3, 100}  # unknown topic or partition, unknown topic id
MAX_LEADER_RETRIES = 20
MEMORY_BUDGET_BYTES = 256 << 20  # open (not yet compressed) blocks, all partitions together


def _open_file_budget() -> int:
    """Segment files open at once: a quarter of the process's limit (``ulimit -n``), at most 256."""
    try:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return 64
    return 256 if soft == resource.RLIM_INFINITY else max(8, min(256, soft // 4))


MAX_OPEN_SEGMENTS = _open_file_budget()

Parts = dict[TopicPartition, PartitionBackup]


@dataclass(frozen=True)
class FetchSettings:
    fetch_max_bytes: int
    partition_fetch_max_bytes: int
    rate_limit_mb_s: float | None
    checkpoint_seconds: float
    prefetch: bool  # False with --max-messages: where a partition ends is known only after decoding
    memory_budget: int = MEMORY_BUDGET_BYTES
    max_open_segments: int = MAX_OPEN_SEGMENTS


@dataclass(frozen=True)
class LoopHooks:
    """What the loop tells its caller and asks of it."""

    check_topics: Callable[[], Awaitable[None]]  # raises TopicRecreated when a topic's id changed
    progress: Callable[[], None]  # called after every answer (the caller throttles)
    checkpointed: Callable[[], None]
    seconds_ahead: Callable[[float], float]  # pause that keeps the bytes read within a rate limit
    what: str  # "'orders'" or "set 2026...-nightly-a1b2c3": for errors
    resume_hint: str


async def fetch_until_done(session: KafkaSession, parts: Parts, settings: FetchSettings, hooks: LoopHooks) -> int:
    """Read every partition up to its end; the number of errors retried on the way. On any failure
    the partitions are checkpointed (best effort) before the error is raised, except when a topic was
    recreated: what was read since the last check may be the new topic's and must never be kept."""
    topics = sorted({tp.topic for tp in parts})
    errors = 0
    try:
        for _attempt in range(MAX_LEADER_RETRIES):
            pending = {tp: p for tp, p in parts.items() if not p.done}
            if not pending:
                break
            try:
                meta = (await session.metadata(topics)).to_object()
            except KsreError as exc:  # the broker asked may be the one going down: ask another, later
                if not exc.retriable:
                    raise
                errors += 1
                await asyncio.sleep(0.5)
                continue
            leaders = partition_leaders(meta)
            by_leader: dict[int, Parts] = defaultdict(dict)
            try:
                for tp, p in pending.items():
                    leader = leaders.get(tp)
                    if leader is not None:
                        by_leader[leader][tp] = p
                share = _shared(settings, len(by_leader))
                moved = await _all_or_none([_leader_loop(session, node, group, share, hooks)
                                            for node, group in by_leader.items()])
            except KsreError as exc:
                incomplete = type(exc)(f"{exc}; {hooks.resume_hint}")
                incomplete.retriable = exc.retriable
                raise incomplete from exc
            except OSError:
                raise  # the disk: reported with the path and the space needed by the caller
            except Exception as exc:  # a bug: still one line, and the backup stays resumable
                raise KsreError(f"backup of {hooks.what} stopped on an unexpected {type(exc).__name__}: {exc} "
                                f"(a bug; --debug shows where); {hooks.resume_hint}") from exc
            if any(moved) or len(by_leader) < len({leaders.get(tp) for tp in pending}) or not by_leader:
                if not by_leader:
                    await hooks.check_topics()  # no leader at all: a topic may be gone
                errors += 1
                await asyncio.sleep(0.5)
        else:
            raise KafkaRequestFailed(f"partition leaders of {hooks.what} kept moving; {hooks.resume_hint}",
                                     retriable=True)
    except TopicRecreated:
        raise
    except BaseException:
        with contextlib.suppress(OSError, KsreError):  # the last durable checkpoint stays the resume point
            await checkpoint_all(parts)
        raise
    return errors


def _shared(settings: FetchSettings, loops: int) -> FetchSettings:
    """Each leader's loop gets its share of the memory and open-file budgets."""
    if loops <= 1:
        return settings
    return replace(settings, memory_budget=max(1 << 20, settings.memory_budget // loops),
                   max_open_segments=max(1, settings.max_open_segments // loops))


async def checkpoint_all(parts: Parts | Sequence[PartitionBackup]) -> None:
    each = parts.values() if isinstance(parts, dict) else parts
    await asyncio.gather(*(asyncio.to_thread(p.checkpoint) for p in each))


async def _all_or_none(loops: list[Coroutine[Any, Any, bool]]) -> list[bool]:
    """Run the leaders' loops together; when one fails the others are stopped before the error is
    raised, so nothing keeps writing while the caller checkpoints and retries."""
    tasks = [asyncio.create_task(loop) for loop in loops]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _leader_loop(session: KafkaSession, node: int, parts: Parts, settings: FetchSettings,
                       hooks: LoopHooks) -> bool:
    """Fetch until every partition is done; True when a leader moved (the caller re-plans)."""
    last_checkpoint = time.monotonic()

    def positions() -> dict[TopicPartition, int]:
        return {tp: p.position for tp, p in parts.items() if not p.done}

    max_bytes, partition_max_bytes = settings.fetch_max_bytes, settings.partition_fetch_max_bytes
    if settings.rate_limit_mb_s:  # under a rate limit one request carries about a quarter second's budget
        max_bytes = max(64 << 10, min(max_bytes, int(settings.rate_limit_mb_s * 1e6 / 4)))
        partition_max_bytes = min(partition_max_bytes, max_bytes)

    def ask(at: dict[TopicPartition, int]) -> asyncio.Task[dict]:  # type: ignore[type-arg]
        return asyncio.create_task(fetch_raw(session, node, at, max_bytes=max_bytes,
                                             partition_max_bytes=partition_max_bytes))

    at = positions()
    in_flight = ask(at) if at else None
    try:
        while in_flight is not None:
            asked, in_flight = in_flight, None
            try:
                answer = await asked
            except KsreError as exc:  # the leader's broker is down or going: re-plan from fresh metadata
                if not exc.retriable:
                    raise
                return True
            moved = False
            work = []
            for tp, fetched in answer.items():
                if fetched.error_code in LEADER_MOVED:
                    moved = True
                elif fetched.error_code == OFFSET_OUT_OF_RANGE:
                    await hooks.check_topics()  # a new topic restarts at offset 0
                    start = await list_offsets(session, {tp: node}, EARLIEST)
                    parts[tp].skip_to(start.get(tp, parts[tp].position))
                elif fetched.error_code:
                    if fetched.error_code in _TOPIC_GONE:
                        await hooks.check_topics()
                    session.raise_for_code(fetched.error_code, f"fetching {tp.topic}/{tp.partition}")
                else:
                    work.append(asyncio.to_thread(parts[tp].process, fetched))
            if settings.prefetch and not moved:
                at = _next_positions(parts, answer)
                in_flight = ask(at) if at else None
            await _all_threads(work)
            hooks.progress()
            if settings.rate_limit_mb_s:
                await asyncio.sleep(hooks.seconds_ahead(settings.rate_limit_mb_s))
            if moved:
                return True
            if time.monotonic() - last_checkpoint >= settings.checkpoint_seconds:
                await _checkpoint(parts.values(), hooks)
                last_checkpoint = time.monotonic()
            else:
                await _checkpoint(to_seal_now(parts.values(), settings), hooks)
            if not settings.prefetch:
                at = positions()
                in_flight = ask(at) if at else None
        return False
    finally:
        if in_flight is not None:  # the loop stopped on another error: drop the prefetch, keep that error
            in_flight.cancel()
            await asyncio.wait([in_flight])
            if not in_flight.cancelled():
                in_flight.exception()  # retrieved, so asyncio does not log it as never retrieved


async def _checkpoint(parts: Sequence[PartitionBackup] | Any, hooks: LoopHooks) -> None:
    chosen = list(parts)
    if not chosen:
        return
    # the same topic ids now mean every record read so far is from the topics the backup started on
    await hooks.check_topics()
    await checkpoint_all(chosen)
    hooks.checkpointed()


def to_seal_now(parts: Sequence[PartitionBackup] | Any, settings: FetchSettings) -> list[PartitionBackup]:
    """Partitions to checkpoint before their time: a full segment; a finished partition still holding
    an open block or file; then the fullest ones while open blocks or files exceed their budget."""
    chosen = []
    holding = []
    for p in parts:
        if p.needs_checkpoint or (p.done and p.holds_unsealed):
            chosen.append(p)
        elif p.holds_unsealed:
            holding.append(p)
    buffered = sum(p.writer.buffered_bytes for p in holding)
    open_files = len(holding)
    holding.sort(key=lambda p: p.writer.buffered_bytes + p.writer.segment_size, reverse=True)
    for p in holding:
        if buffered <= settings.memory_budget and open_files <= settings.max_open_segments:
            break
        chosen.append(p)
        buffered -= p.writer.buffered_bytes
        open_files -= 1
    return chosen


async def _all_threads(work: Sequence[Coroutine[Any, Any, object]]) -> None:
    """Wait for every partition's processing thread, even when one fails or this task is cancelled: a
    thread still writing while the caller checkpoints that partition would corrupt its state."""
    tasks = [asyncio.ensure_future(w) for w in work]
    if not tasks:
        return
    try:
        await asyncio.wait(tasks)
    except asyncio.CancelledError:
        await asyncio.wait(tasks)  # asyncio.wait leaves its tasks running: let the threads finish
        raise
    failed = next((t.exception() for t in tasks if t.exception() is not None), None)
    if failed is not None:
        raise failed


def _next_positions(parts: Parts, answer: dict[TopicPartition, FetchedPartition]) -> dict[TopicPartition, int]:
    """Where each partition will stand once ``answer`` is processed, from batch headers alone."""
    result = {}
    for tp, p in parts.items():
        fetched = answer.get(tp)
        end = whole_batches_end(fetched.records) if fetched is not None and not fetched.error_code else None
        position = max(p.position, end or 0)
        if position < p.end_offset:
            result[tp] = position
    return result
