"""A set restore's preflight: every member of every link used is verified (every checksum) and its
records in range scanned, each partition cut at the point in time, and each topic judged by the
one-topic restore's checks over the records of all its links together.

The cut at ``to_time_ms`` runs across links: a partition stops at the first record stamped after the
time, in whichever link it is; the later links add nothing to that partition."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kafka_sre_tui.engine.restore.events import BackupDamaged
from kafka_sre_tui.engine.restore.plan import PartitionSelection, RestoreRequest
from kafka_sre_tui.engine.restore.preflight import Preflight, evaluate
from kafka_sre_tui.engine.restore.run import verified_plan
from kafka_sre_tui.engine.restore.scan import RangeStats
from kafka_sre_tui.engine.restore.set_events import LostRange
from kafka_sre_tui.engine.restore.set_links import MemberLink, TopicPlan
from kafka_sre_tui.engine.restore.set_request import SetRestoreRequest
from kafka_sre_tui.engine.storage.backup_set import MEMBERS, SetManifest, set_dir
from kafka_sre_tui.engine.storage.encryption import unlock_backup
from kafka_sre_tui.engine.storage.manifest import Manifest
from kafka_sre_tui.engine.storage.store import Location
from kafka_sre_tui.engine.target.checks import FAIL, OK, Check
from kafka_sre_tui.engine.target.topic import TargetTopic


@dataclass(frozen=True)
class MemberScan:
    """What one link's member of a topic contributes: its partitions' ranges and their records' facts."""

    link: MemberLink
    manifest: Manifest
    selections: tuple[PartitionSelection, ...]
    stats: dict[int, RangeStats]

    @property
    def partitions(self) -> tuple[int, ...]:
        return tuple(s.partition for s in self.selections)

    @property
    def offsets(self) -> int:
        return sum(s.end - s.start for s in self.selections)

    @property
    def lost(self) -> tuple[LostRange, ...]:
        """The retention holes before this link in the partitions read from it."""
        read = set(self.partitions)
        return tuple(LostRange(self.link.set_id, p.partition, *p.lost) for p in self.link.member.partitions
                     if p.lost and p.partition in read)


def members_base(request: SetRestoreRequest, set_id: str) -> Location:
    """Where a link's members live: the base a one-topic restore of a member is given."""
    return set_dir(request.backup_base, set_id) / MEMBERS


def member_request(request: SetRestoreRequest, set_id: str, member_id: str, partitions: tuple[int, ...],
                   target: str, **options: object) -> RestoreRequest:
    """The one-topic restore of one member into its topic's target."""
    return RestoreRequest(backup_base=members_base(request, set_id), backup_id=member_id,
                          target_topic=target, partitions=partitions, to_time_ms=request.to_time_ms,
                          rate_limit_mb_s=request.rate_limit_mb_s, replication_factor=request.replication_factor,
                          checkpoint_seconds=request.checkpoint_seconds, state_dir=request.states_base,
                          encryption_key=request.encryption_key, **options)  # type: ignore[arg-type]


async def scan_topic(request: SetRestoreRequest, plan: TopicPlan) -> list[MemberScan]:
    """Verify and scan each member of the topic, oldest first, cutting partitions at the time."""
    cut: set[int] = set()
    scans = []
    for member in plan.members:
        folder = members_base(request, member.set_id) / member.member.member_id
        if not folder.is_dir():
            raise BackupDamaged(f"backup set {member.set_id} lists member {member.member.member_id} (topic "
                                f"'{plan.source}') but its folder {folder} is missing; nothing was written")
        unlock_backup(folder, request.encryption_key)
        wanted = tuple(p.partition for p in member.member.partitions if p.partition not in cut)
        one = member_request(request, member.set_id, member.member.member_id, wanted, plan.target)
        manifest, selections, stats = await verified_plan(folder, one)
        ends = {p.partition: p.end_offset for p in manifest.partitions}
        cut.update(s.partition for s in selections if s.end < ends[s.partition])
        scans.append(MemberScan(member, manifest, tuple(selections), stats))
    return scans


def topic_preflight(request: SetRestoreRequest, plan: TopicPlan, scans: list[MemberScan], target: TargetTopic,
                    cluster: str, read_only: bool, now_ms: int) -> Preflight:
    """The one-topic checks, as if the topic's links were one backup (the newest link's metadata)."""
    newest = scans[-1].manifest
    whole = replace(newest, backup_id=f"{newest.backup_id} and {len(scans) - 1} earlier link(s)" if len(scans) > 1
                    else newest.backup_id, topic=plan.newest.topic)
    spans: dict[int, PartitionSelection] = {}
    stats: dict[int, RangeStats] = {}
    for scan in scans:
        for s in scan.selections:
            first = spans.get(s.partition, s)
            spans[s.partition] = PartitionSelection(s.partition, s.partition, first.start, s.end)
            stats[s.partition] = merge_stats(stats.get(s.partition), scan.stats[s.partition])
    checks_request = RestoreRequest(backup_base=request.backup_base, backup_id=request.set_id, create_topic=True,
                                    replication_factor=request.replication_factor, force=request.force)
    judged = evaluate(checks_request, whole, [spans[p] for p in sorted(spans)], stats, target, cluster, read_only,
                      plan.target, now_ms)
    return replace(judged, checks=tuple(_for_sets(c, plan, whole.topic["partition_count"], target.partitions)
                                        for c in judged.checks))


def _for_sets(check: Check, plan: TopicPlan, source_count: int, target_count: int) -> Check:
    """The one-topic checks' ways out, in a set restore's options (it has no --partition-map or
    --target-topic)."""
    if check.level == FAIL and check.name == "partitions":
        return Check(check.name, FAIL, f"topic '{plan.target}' exists with {target_count} partition(s), "
                                       f"'{plan.source}' was backed up with {source_count}: records would not land "
                                       "in their partitions; restore it under another name (--topic-map or "
                                       "--topic-prefix) or give the target the same partition count")
    return replace(check, message=check.message.replace("(--target-topic)", "(--topic-map or --topic-prefix)"))


def merge_stats(a: RangeStats | None, b: RangeStats) -> RangeStats:
    if a is None:
        return b
    lows = [t for t in (a.min_timestamp, b.min_timestamp) if t is not None]
    highs = [t for t in (a.max_timestamp, b.max_timestamp) if t is not None]
    return RangeStats(a.records + b.records, a.bytes + b.bytes, a.null_keys + b.null_keys,
                      min(lows) if lows else None, max(highs) if highs else None,
                      max(a.max_batch_bytes, b.max_batch_bytes), a.log_append_time + b.log_append_time)


def backed_up_groups(newest: SetManifest, topic: str) -> dict[str, dict[str, int]]:
    """Each group's committed offsets on ``topic`` when the newest link used started."""
    return {group: topics[topic] for group, topics in newest.consumer_groups.items() if topic in topics}


def group_checks(request: SetRestoreRequest, newest: SetManifest, topics: list[str]) -> list[Check]:
    if request.restore_consumer_offsets is None:
        return []
    found = sorted({g for t in topics for g in backed_up_groups(newest, t)})
    unknown = [g for g in request.restore_consumer_offsets if g not in found]
    if unknown:
        return [Check("groups", FAIL, f"group(s) {', '.join(unknown)} have no offsets on the restored topics in "
                                      f"backup set {newest.set_id} (it has: {', '.join(found) or 'none'})")]
    wanted = request.restore_consumer_offsets or tuple(found)
    return [Check("groups", OK, f"offsets of {len(wanted)} group(s) will be translated (as of link "
                                f"{newest.set_id}): {', '.join(wanted)}" if wanted else
                  "the set holds no consumer group offsets on the restored topics")]
