"""Group offsets after (or during) a migration: each group's committed offsets on the source topic,
translated through the exact offset map and committed on the target by restore's committer (only
groups with no active members there, never backwards unless forced).

One check restore does not need: a group may be ahead of the copy (it consumed source records not
copied yet); translating it to the end of the copy would make it read those records twice once
they arrive, so such a group is not committed until the copy has caught up.
"""

from __future__ import annotations

from kafka_sre_tui.engine.errors import NotFound
from kafka_sre_tui.engine.inspect.groups import committed_offsets_for_topic, describe_group
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.restore.offsets import GroupCommit, active_members, commit_group_offsets
from kafka_sre_tui.engine.restore.state import PartitionProgress


async def commit_groups(source: KafkaSession, target: KafkaSession, source_topic: str, target_topic: str,
                        groups: tuple[str, ...], progress: list[PartitionProgress], force: bool,
                        idle_source: bool = False) -> list[GroupCommit]:
    """``groups`` empty: every group with commits on the source topic. ``idle_source``: also require the
    group to have no active members on the source (cutover: its offsets must not move any more)."""
    committed = await committed_offsets_for_topic(source, source_topic)
    wanted = groups or tuple(sorted(committed))
    return [await _one(source, target, target_topic, g, committed.get(g, {}), progress, force, idle_source)
            for g in wanted]


async def _one(source: KafkaSession, target: KafkaSession, target_topic: str, group: str, offsets: dict[int, int],
               progress: list[PartitionProgress], force: bool, idle_source: bool) -> GroupCommit:
    copied = {p.selection.partition: p for p in progress}
    mine = {str(s): o for s, o in offsets.items() if s in copied}
    if not mine:
        return GroupCommit(group, False, f"no committed offsets on the migrated partitions of cluster "
                                         f"'{source.cluster.name}'", {}, {})
    if idle_source:
        try:
            info = await describe_group(source, group)
        except NotFound:
            info = None
        if info is not None and info.members:
            return GroupCommit(group, False, f"{active_members(info)} on the source cluster "
                                             f"'{source.cluster.name}': stop them first (their offsets still move)",
                               {}, offsets)
    ahead = {s: (o, copied[s].source_position) for s, o in offsets.items()
             if s in copied and o > copied[s].source_position}
    if ahead:
        shown = ", ".join(f"partition {s} at {o}, copied up to {c}" for s, (o, c) in sorted(ahead.items()))
        return GroupCommit(group, False, f"the group is ahead of the copy ({shown}): copy further (migrate "
                                         "--follow or cutover --step catch-up) then commit", {}, offsets)
    # retried while the coordinator comes up (a cluster's first group): see restore_offsets
    [result] = await commit_group_offsets(target, target_topic, {group: mine}, (group,), progress, force)
    return result
