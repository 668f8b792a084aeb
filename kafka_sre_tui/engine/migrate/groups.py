"""Group offsets after (or during) a migration: each group's committed offsets on the source topic,
translated through the exact offset map and committed on the target by restore's committer (only
groups with no active members there, never backwards unless forced).

One check restore does not need: a group may be ahead of the copy (it consumed source records not
copied yet); translating it to the end of the copy would make it read those records twice once
they arrive, so such a group is not committed until the copy has caught up.
"""

from __future__ import annotations

from kafka_sre_tui.engine.audit import REFUSED, audit
from kafka_sre_tui.engine.errors import NotFound
from kafka_sre_tui.engine.inspect.groups import committed_offsets_for_topic, describe_group
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.restore.offsets import GroupCommit, commit_group_offsets
from kafka_sre_tui.engine.restore.state import PartitionProgress

ACTION = "migrate.commit_offsets"


async def commit_groups(source: KafkaSession, target: KafkaSession, source_topic: str, target_topic: str,
                        groups: tuple[str, ...], progress: list[PartitionProgress], force: bool,
                        idle_source: bool = False) -> list[GroupCommit]:
    """``groups`` empty: every group with commits on the source topic. ``idle_source``: also require the
    group to have no active members on the source (cutover: its offsets must not move any more).
    Every group's commit, or refusal, is a line in the audit log."""
    committed = await committed_offsets_for_topic(source, source_topic)
    wanted = groups or tuple(sorted(committed))
    commits = []
    copied = {p.selection.partition: p for p in progress}
    for group in wanted:
        offsets = committed.get(group, {})
        mine = {str(s): o for s, o in offsets.items() if s in copied}
        refusal = await _refusal(source, group, offsets, mine, copied, idle_source)
        if refusal is None:
            # retried while the coordinator comes up (a cluster's first group): see restore/offsets.py
            commits += await commit_group_offsets(target, target_topic, {group: mine}, (group,), progress, force,
                                                  ACTION)
            continue
        audit(ACTION, cluster=target.cluster.name, topic=target_topic, group=group, result=REFUSED,
              parameters={"source_cluster": source.cluster.name, "source_offsets": offsets, "force": force},
              error=refusal)
        commits.append(GroupCommit(group, False, refusal, {}, offsets))
    return commits


async def _refusal(source: KafkaSession, group: str, offsets: dict[int, int], mine: dict[str, int],
                   copied: dict[int, PartitionProgress], idle_source: bool) -> str | None:
    """Why this group's offsets must not be committed on the target now (None: they may)."""
    if not mine:
        return f"no committed offsets on the migrated partitions of cluster '{source.cluster.name}'"
    if idle_source:
        try:
            members = len((await describe_group(source, group)).members)
        except NotFound:
            members = 0
        if members:
            return (f"{members} active member(s) on the source cluster '{source.cluster.name}': stop them first "
                    "(their offsets still move)")
    ahead = {s: (o, copied[s].source_position) for s, o in offsets.items()
             if s in copied and o > copied[s].source_position}
    if ahead:
        shown = ", ".join(f"partition {s} at {o}, copied up to {c}" for s, (o, c) in sorted(ahead.items()))
        return (f"the group is ahead of the copy ({shown}): copy further (migrate --follow or cutover --step "
                "catch-up) then commit")
    return None
