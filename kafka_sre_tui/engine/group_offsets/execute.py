"""Carry out a reset or a rollback: refuse on a read_only cluster or while the group has active
members, snapshot the previous offsets, commit, and write every outcome to the audit log."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kafka_sre_tui.engine.audit import FAILED, OK, REFUSED, audit
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.group_offsets.committed import commit_offsets, committed_offsets
from kafka_sre_tui.engine.group_offsets.reset import SNAPSHOT, PartitionMove, ResetPlan, ResetTarget, group_or_empty
from kafka_sre_tui.engine.group_offsets.snapshots import Snapshot, save_snapshot
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offsets import EARLIEST, LATEST, list_offsets
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import GroupInfo, TopicPartition


class OffsetsRefused(KsreError):
    """The group is in use (active members): nothing was written."""


@dataclass(frozen=True)
class Executed:
    snapshot: Snapshot  # the offsets before: roll back with ``offsets rollback SNAPSHOT_ID``
    committed: dict[int, int]


def active_members_text(group: GroupInfo) -> str:
    members = ", ".join(f"{m.client_id}@{m.host.lstrip('/')} ({m.member_id})" for m in group.members[:5])
    more = f" and {len(group.members) - 5} more" if len(group.members) > 5 else ""
    return f"{len(group.members)} active member(s) ({group.group_type} group, state {group.state}): {members}{more}"


async def execute(session: KafkaSession, plan: ResetPlan, action: str = "offsets reset") -> Executed:
    """Commit ``plan``'s offsets. The group is described again right before: a consumer that joined since
    the dry run makes this refuse. The snapshot is written (and fsynced) before anything is committed."""
    cluster = session.cluster
    parameters = {"target": plan.target.kind, "value": plan.target.value,
                  "offsets": {m.partition: m.new for m in plan.moves}}

    def record(result: str, error: str | None = None) -> None:
        audit(action, cluster=cluster.name, result=result, topic=plan.topic, group=plan.group,
              parameters=parameters, error=error)

    if cluster.read_only:
        error = (f"cluster '{cluster.name}' is read_only in {cluster.source}: refusing to move group "
                 f"'{plan.group}'; set read_only = false for it")
        record(REFUSED, error)
        raise ConfigError(error)
    if not plan.moves:
        raise ConfigError(f"nothing to move for group '{plan.group}' on topic '{plan.topic}'")
    now = await group_or_empty(session, plan.group)
    if now.members:
        error = (f"group '{plan.group}' on cluster '{cluster.name}' has {active_members_text(now)}; stop them "
                 "first (offsets can only be moved for a group with no active members)")
        record(REFUSED, error)
        raise OffsetsRefused(error)
    snapshot = save_snapshot(cluster.name, plan.group, plan.topic, plan.previous(),
                             f"{action}: {plan.target.describe()}")
    parameters["snapshot_id"] = snapshot.snapshot_id
    try:
        await commit_offsets(session, plan.group, plan.offsets())
    except KsreError as exc:
        record(FAILED, str(exc))
        raise
    record(OK)
    return Executed(snapshot, {m.partition: m.new for m in plan.moves})


async def plan_rollback(session: KafkaSession, snapshot: Snapshot) -> ResetPlan:
    """Back to the offsets ``snapshot`` holds, exactly (partitions that had no commit are left as they are)."""
    if snapshot.cluster != session.cluster.name:
        raise ConfigError(f"snapshot {snapshot.snapshot_id} was taken on cluster '{snapshot.cluster}', not "
                          f"'{session.cluster.name}'; pass --cluster {snapshot.cluster}")
    meta = await session.metadata_object([snapshot.topic])
    leaders = partition_leaders(meta)
    tps = {TopicPartition(snapshot.topic, p): leaders.get(TopicPartition(snapshot.topic, p))
           for p in snapshot.offsets}
    info, committed, earliest, latest = await asyncio.gather(
        group_or_empty(session, snapshot.group), committed_offsets(session, snapshot.group),
        list_offsets(session, tps, EARLIEST), list_offsets(session, tps, LATEST))
    moves, notes = [], []
    for partition, offset in sorted(snapshot.offsets.items()):
        tp = TopicPartition(snapshot.topic, partition)
        if offset is None:
            notes.append(f"partition {partition}: had no commit before; left as it is")
            continue
        low, high = earliest.get(tp, offset), latest.get(tp, offset)
        if offset < low:
            notes.append(f"partition {partition}: offset {offset} is before the log start {low} now "
                         "(retention deleted it): the group will reset by its auto.offset.reset")
        moves.append(PartitionMove(partition, committed.get(tp), offset, low, high))
    return ResetPlan(snapshot.group, snapshot.topic, ResetTarget(SNAPSHOT), tuple(moves), info.state,
                     info.protocol_type, info.members, tuple(notes), info.group_type)
