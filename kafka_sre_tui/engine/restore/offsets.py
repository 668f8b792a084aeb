"""Consumer offsets after a restore: each backed-up group's committed offsets, translated through the
exact offset map, committed on the target for groups with no active members, never backwards
unless forced. Also migration's committer (engine/migrate/groups.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as KafkaTP
from aiokafka import errors as kerr

from kafka_sre_tui.engine.audit import audited
from kafka_sre_tui.engine.errors import ConfigError, KafkaRequestFailed, NotFound
from kafka_sre_tui.engine.inspect.groups import describe_group
from kafka_sre_tui.engine.kafka.session import KafkaSession, client_settings, translate_error
from kafka_sre_tui.engine.restore.state import PartitionProgress

T = TypeVar("T")
COORDINATOR_TRIES = 20
COORDINATOR_PAUSE_SECONDS = 0.5


async def with_coordinator_retries(call: Callable[[], Awaitable[T]], tries: int = COORDINATOR_TRIES,
                                   sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> T:
    """``call()``, again after a pause while Kafka answers with a retriable error, ``tries`` times at
    most. A cluster's first group commit creates __consumer_offsets, and its coordinator answers
    GroupCoordinatorNotAvailable / CoordinatorLoadInProgress for a few seconds. Not retried: anything
    else, including no answer at all (ClusterUnreachable, already after a full request timeout)."""
    for attempt in range(tries):
        try:
            return await call()
        except KafkaRequestFailed as exc:
            if not exc.retriable or attempt == tries - 1:
                raise
            await sleep(COORDINATOR_PAUSE_SECONDS)
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class GroupCommit:
    group: str
    committed: bool
    reason: str
    offsets: dict[int, int]  # target partition -> the offset committed (or that would have been)
    source_offsets: dict[int, int]  # source partition -> the offset backed up


def translate(backed_up: dict[str, int], progress: list[PartitionProgress]) -> tuple[dict[int, int], dict[int, int]]:
    """A group at source position X resumes after the record that was at X-1: the first restored
    record at or after X, or the end of what was restored."""
    target, source = {}, {}
    for p in progress:
        position = backed_up.get(str(p.selection.partition))
        if position is None:
            continue
        source[p.selection.partition] = position
        target[p.selection.target_partition] = p.map.translate_position(position, p.target_next)
    return target, source


async def commit_group_offsets(session: KafkaSession, topic: str, backed_up: dict[str, dict[str, int]],
                               groups: tuple[str, ...], progress: list[PartitionProgress],
                               force: bool, action: str = "restore.commit_offsets") -> list[GroupCommit]:
    """Each group's commit is one audited ``action``; a group not committed is logged as refused."""
    unknown = [g for g in groups if g not in backed_up]
    if unknown:
        raise ConfigError(f"group(s) {', '.join(unknown)} have no offsets in the backup (it has: "
                          f"{', '.join(sorted(backed_up)) or 'none'})")
    wanted = groups or tuple(sorted(backed_up))
    commits = []
    for group in wanted:
        def commit(group: str = group) -> Awaitable[GroupCommit]:
            return _commit_one(session, topic, group, backed_up[group], progress, force)
        with audited(action, cluster=session.cluster.name, topic=topic, group=group,
                     parameters={"force": force}) as outcome:
            result = await with_coordinator_retries(commit)
            outcome.parameters.update(offsets=result.offsets, source_offsets=result.source_offsets)
            if not result.committed:
                outcome.refuse(result.reason)
        commits.append(result)
    return commits


async def _commit_one(session: KafkaSession, topic: str, group: str, backed_up: dict[str, int],
                      progress: list[PartitionProgress], force: bool) -> GroupCommit:
    offsets, source = translate(backed_up, progress)
    if not offsets:
        return GroupCommit(group, False, "no offsets on the restored partitions", offsets, source)
    try:
        info = await describe_group(session, group)
        members, current = len(info.members), {p.partition: p.committed for p in info.partitions
                                               if p.topic == topic and p.committed is not None}
    except NotFound:
        members, current = 0, {}
    if members:
        return GroupCommit(group, False, f"{members} active member(s) on cluster '{session.cluster.name}': stop "
                                         "them, then run the restore again with --resume to commit", offsets, source)
    backwards = {p: (current[p], o) for p, o in offsets.items() if p in current and o < current[p]}
    if backwards and not force:
        shown = ", ".join(f"partition {p} from {old} to {new}" for p, (old, new) in sorted(backwards.items()))
        return GroupCommit(group, False, f"would move the group back ({shown}); pass --force to allow it",
                           offsets, source)
    consumer = AIOKafkaConsumer(**client_settings(session.cluster), group_id=group, enable_auto_commit=False)
    try:
        async with asyncio.timeout(session.cluster.request_timeout_seconds):
            await consumer.start()
            tps = {KafkaTP(topic, p): o for p, o in offsets.items()}
            consumer.assign(list(tps))
            await consumer.commit(tps)
    except (kerr.CommitFailedError, kerr.IllegalGenerationError, kerr.UnknownMemberIdError) as exc:
        return GroupCommit(group, False, f"the group became active while committing ({type(exc).__name__})",
                           offsets, source)
    except Exception as exc:
        raise translate_error(exc, session.cluster, f"committing offsets of group '{group}'") from exc
    finally:
        await consumer.stop()
    return GroupCommit(group, True, "committed", offsets, source)
