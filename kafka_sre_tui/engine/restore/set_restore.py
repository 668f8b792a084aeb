"""Restore a backup set (any link of a chain) into a cluster, to a point in time if asked.

Order of work: follow the chain from its base to the set asked for (with ``to_time_ms``, to the first
link started after it: see set_links.py); verify and scan every member used and judge every topic
(set_preflight.py: all that ``dry_run`` does); write the plan durably; create the missing topics;
restore up to TOPICS_AT_ONCE topics at a time, each topic's members oldest link first, each with the
one-topic restore (engine/restore/run.py, handed the preflight's verification so the member is not read
once more: its checks, writer, checkpoints and exactly-once resume, its state keyed by the member's own
id, so links never collide); set a LogAppendTime topic back once its last link is written; commit the groups'
offsets of the newest link used, translated through the offset maps of every link.

Group offsets with a point in time: a group's committed offset X becomes the target offset of the first
restored record at or after X; X beyond the cut (the group had read past the time) becomes the end of
what was restored, so the group resumes at exactly the next record after the restored ones; X inside a
range deleted by retention before it was backed up (``lost``) becomes the first record after the hole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.audit import AuditOutcome, audited, refuse_read_only, request_parameters
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.kafka.retry import retry_while_away
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.kafka.topic_settings import set_topic_configs
from kafka_sre_tui.engine.restore.events import BackupDamaged, PartitionOutcome, PreflightFailed, RestoreMetrics
from kafka_sre_tui.engine.restore.offsets import commit_group_offsets
from kafka_sre_tui.engine.restore.run import restore_backup
from kafka_sre_tui.engine.restore.set_events import (
    LostRange,
    SetEmit,
    SetPreflight,
    SetRestoreMetrics,
    SetRestoreResult,
    TopicGroupCommit,
    TopicPreflight,
    TopicRestored,
    ignore,
)
from kafka_sre_tui.engine.restore.set_links import TopicPlan, links_used, plan_topics
from kafka_sre_tui.engine.restore.set_outcomes import OverallProgress, merged_partitions
from kafka_sre_tui.engine.restore.set_preflight import (
    MemberScan,
    backed_up_groups,
    group_checks,
    member_request,
    scan_topic,
    topic_preflight,
)
from kafka_sre_tui.engine.restore.set_request import SetRestoreRequest, validate_set_request
from kafka_sre_tui.engine.restore.state import PartitionProgress, load_partitions, load_plan, locked, state_dir
from kafka_sre_tui.engine.restore.write import outcomes
from kafka_sre_tui.engine.storage.backup_set import SET_MANIFEST, SetManifest, chain_of, read_set_manifest, set_dir
from kafka_sre_tui.engine.storage.files import read_json, write_json_atomic
from kafka_sre_tui.engine.target.topic import create_topic, inspect_target, timestamps_kept

SET_PLAN = "set-restore.json"
TOPICS_AT_ONCE = 4  # topics restored at once (each by a one-topic restore, with its own bounds on memory)
T = TypeVar("T")


async def restore_set(cluster: ClusterConfig, request: SetRestoreRequest, emit: SetEmit = ignore,
                      now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> SetRestoreResult:
    """Restore the set; killed or failed, the same request with ``resume=True`` continues it and
    writes nothing twice."""
    validate_set_request(request)
    parameters = request_parameters(request, "backup_base", "dry_run")
    refuse_read_only(cluster.read_only and not request.dry_run, cluster.name, cluster.source, "restore_set",
                     "restore into", "pick another --cluster", parameters=parameters)
    chain = chain_of(request.backup_base, request.set_id)
    used = links_used(chain, request.to_time_ms)
    _refuse_edited(request, used)
    if request.dry_run:
        return await _restore(cluster, request, used, emit, now, AuditOutcome())
    with audited("restore_set", cluster=cluster.name, parameters=parameters) as outcome:
        result = await _restore(cluster, request, used, emit, now, outcome)
        outcome.parameters["records_written"] = result.metrics.messages if result.metrics else 0
        return result


def _refuse_edited(request: SetRestoreRequest, used: list[SetManifest]) -> None:
    """A set.json whose checksum no longer holds was changed after it was written: its members,
    ranges or groups cannot be trusted (each member's own manifest is checked by its verification)."""
    for link in used:
        if not read_set_manifest(set_dir(request.backup_base, link.set_id))[1]:
            raise BackupDamaged(f"refusing to restore from backup set {link.set_id}: its {SET_MANIFEST} was changed "
                                "after it was written (its manifest_sha256 does not match); nothing was written")


async def _restore(cluster: ClusterConfig, request: SetRestoreRequest, used: list[SetManifest], emit: SetEmit,
                   now: Callable[[], datetime], outcome: AuditOutcome) -> SetRestoreResult:
    async with KafkaSession(cluster) as session:
        cluster_id = (await session.metadata([])).to_object().get("cluster_id")
    states = request.states_base / request.set_id / (cluster_id or "unknown-cluster")
    previous = read_json(states / SET_PLAN) if (states / SET_PLAN).exists() else None
    links = tuple(link.set_id for link in used)
    if request.resume:
        if previous is None:
            raise ConfigError(f"no restore of backup set {request.set_id} into cluster '{cluster.name}' to resume "
                              f"(looked in {states})")
        with locked(states):
            return await _write(cluster, request, previous, states, None, None, emit, now)
    if previous is not None and not previous.get("completed_at") and not request.dry_run:
        raise KsreError(f"an interrupted restore of backup set {request.set_id} into cluster '{cluster.name}' "
                        f"exists ({states}); continue it with --resume (nothing is written twice)")
    plans = plan_topics(used, request)
    outcome.parameters["topics"] = [p.target for p in plans]
    preflight, scans = await _preflight(cluster, request, used, plans, now)
    emit(preflight)
    if request.dry_run:
        return SetRestoreResult(request.set_id, cluster.name, True, links, preflight, (), (), None, None)
    if not preflight.ok:
        where, first = preflight.failures[0]
        more = f" (and {len(preflight.failures) - 1} more; see the preflight above)" if len(preflight.failures) > 1 \
            else ""
        raise PreflightFailed(f"restore refused: {where}: {first.message}{more}; nothing was written")
    plan = _plan(request, used, plans, preflight, scans, cluster, cluster_id, now)
    with locked(states):
        await asyncio.to_thread(write_json_atomic, states / SET_PLAN, plan)
        verified = {s.link.member.member_id: s for found in scans.values() for s in found}
        return await _write(cluster, request, plan, states, verified, preflight, emit, now)


async def _preflight(cluster: ClusterConfig, request: SetRestoreRequest, used: list[SetManifest],
                     plans: list[TopicPlan], now: Callable[[], datetime]
                     ) -> tuple[SetPreflight, dict[str, list[MemberScan]]]:
    limit = asyncio.Semaphore(TOPICS_AT_ONCE)

    async def scan(plan: TopicPlan) -> list[MemberScan]:
        async with limit:
            return await scan_topic(request, plan)

    scans = dict(zip([p.source for p in plans], await _all_or_first_error([scan(p) for p in plans]), strict=True))
    now_ms = int(now().timestamp() * 1000)
    topics = []
    async with KafkaSession(cluster) as session:
        for plan in plans:
            target = await inspect_target(session, plan.target)
            checks = topic_preflight(request, plan, scans[plan.source], target, cluster.name, cluster.read_only,
                                     now_ms)
            read = tuple(s.link.set_id for s in scans[plan.source] if s.partitions)  # cut earlier: not read
            lost = tuple(hole for s in scans[plan.source] for hole in s.lost)
            topics.append(TopicPreflight(plan.source, plan.target, read, plan.restarted, checks, lost))
    groups = group_checks(request, used[-1], [p.source for p in plans])
    return SetPreflight(request.set_id, cluster.name, tuple(link.set_id for link in used), request.to_time_ms,
                        tuple(topics), tuple(groups)), scans


def _plan(request: SetRestoreRequest, used: list[SetManifest], plans: list[TopicPlan], preflight: SetPreflight,
          scans: dict[str, list[MemberScan]], cluster: ClusterConfig, cluster_id: str | None,
          now: Callable[[], datetime]) -> dict[str, Any]:
    """What the restore writes, durable before the first record: a resume follows it, not the request."""
    topics = []
    for plan, checked in zip(plans, preflight.topics, strict=True):
        p = checked.preflight
        create_with, set_after = timestamps_kept(p.create_configs) if p.create else ({}, {})
        topics.append({
            "source": plan.source, "target": plan.target, "restarted": plan.restarted, "create": p.create,
            "partitions": p.partitions, "replication_factor": p.replication_factor, "create_with": create_with,
            "configs_after": set_after, "groups": backed_up_groups(used[-1], plan.source),
            "lost": [asdict(hole) for hole in checked.lost],
            "members": [{"set_id": s.link.set_id, "member_id": s.link.member.member_id,
                         "partition_count": s.manifest.topic["partition_count"], "partitions": list(s.partitions),
                         "offsets": s.offsets} for s in scans[plan.source]]})
    return {"set_id": request.set_id, "links": [link.set_id for link in used], "groups_from": used[-1].set_id,
            "target_cluster": cluster.name, "target_cluster_id": cluster_id, "to_time_ms": request.to_time_ms,
            "groups": list(request.restore_consumer_offsets) if request.restore_consumer_offsets is not None else None,
            "created_at": now().isoformat(), "completed_at": None, "topics": topics}


async def _write(cluster: ClusterConfig, request: SetRestoreRequest, plan: dict[str, Any], states: Path,
                 verified: dict[str, MemberScan] | None, preflight: SetPreflight | None, emit: SetEmit,
                 now: Callable[[], datetime]) -> SetRestoreResult:
    """Write what ``plan`` says. ``verified``: the members this run's preflight verified, by member id;
    None when resuming (each member restore verifies its member again)."""
    overall = OverallProgress(plan, emit)
    async def create_missing() -> None:  # every missing topic first (at once: each waits for its leaders)
        async with KafkaSession(cluster) as session:
            async def create(topic: dict[str, Any]) -> None:
                if not (await inspect_target(session, topic["target"])).exists:
                    await create_topic(session, topic["target"], topic["partitions"],
                                       topic["replication_factor"] or 1, topic["create_with"])

            await _all_or_first_error([create(topic) for topic in plan["topics"] if topic["create"]])

    await _steadily(cluster, emit, create_missing)
    limit = asyncio.Semaphore(TOPICS_AT_ONCE)

    async def one(topic: dict[str, Any]) -> tuple[TopicRestored, list[PartitionProgress]]:
        async with limit:
            return await _topic(cluster, request, plan, topic, verified, overall, emit)

    done = await _all_or_first_error([one(topic) for topic in plan["topics"]])
    restored = [topic for topic, _progress in done]
    progress = {topic.source: merged for topic, merged in done}
    commits = await _steadily(cluster, emit, lambda: _commit_groups(cluster, request, plan, progress))
    if not plan.get("completed_at"):
        plan = {**plan, "completed_at": now().isoformat()}
        await asyncio.to_thread(write_json_atomic, states / SET_PLAN, plan)
    seconds = overall.elapsed
    metrics = SetRestoreMetrics(round(seconds, 3), overall.records, overall.bytes,
                                round(overall.bytes / 1e6 / seconds, 2) if seconds > 0 else 0.0, overall.skipped)
    return SetRestoreResult(plan["set_id"], cluster.name, False, tuple(plan["links"]), preflight, tuple(restored),
                            tuple(commits), metrics, states)


async def _steadily(cluster: ClusterConfig, emit: SetEmit, step: Callable[[], Awaitable[T]]) -> T:
    """A step of the set's own (creating topics, a config, group commits: each harmless to repeat) run
    again while the cluster is away, as the member restores are, for up to ``retry_seconds``."""
    return await retry_while_away(lambda _again: step(), cluster.retry_seconds, emit,
                                  lambda: "the restore is incomplete: continue it with the same command and --resume")


async def _all_or_first_error(work: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Run ``work`` together; the first failure cancels the rest (their restores checkpoint as they
    stop) and is raised as itself, not inside an exception group."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(w) for w in work]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [t.result() for t in tasks]


async def _topic(cluster: ClusterConfig, request: SetRestoreRequest, plan: dict[str, Any], topic: dict[str, Any],
                 verified: dict[str, MemberScan] | None, overall: OverallProgress, emit: SetEmit
                 ) -> tuple[TopicRestored, list[PartitionProgress]]:
    """One topic: its members oldest link first, then its LogAppendTime set back."""
    parts: list[PartitionOutcome] = []
    messages = 0
    for member in topic["members"]:
        if not member["partitions"]:
            continue  # every partition was cut at the time in an earlier link
        found, written = await _member(cluster, request, plan, topic, member, verified, overall)
        parts.extend(found)
        messages += written.messages if written else 0
        overall.member_done(topic["target"], member["offsets"], written)
    if topic["configs_after"]:  # every record of every link is written (setting twice changes nothing)
        async def set_back() -> None:
            async with KafkaSession(cluster) as session:
                await set_topic_configs(session, topic["target"], topic["configs_after"])

        await _steadily(cluster, emit, set_back)
    merged, progress = merged_partitions(parts)
    read = tuple(m["set_id"] for m in topic["members"] if m["partitions"])
    done = TopicRestored(topic["source"], topic["target"], read, topic["restarted"], tuple(merged), messages,
                         tuple(LostRange(**hole) for hole in topic.get("lost", ())))
    overall.topic_finished()
    emit(done)
    return done, progress


async def _member(cluster: ClusterConfig, request: SetRestoreRequest, plan: dict[str, Any], topic: dict[str, Any],
                  member: dict[str, Any], verified: dict[str, MemberScan] | None, overall: OverallProgress
                  ) -> tuple[tuple[PartitionOutcome, ...], RestoreMetrics | None]:
    """One link's member of a topic, with the one-topic restore. Resumed, its state (keyed by the
    member's id) is looked at: written by this set restore (not an older one) and complete, it is read
    back; incomplete, the member restore resumes; absent, nothing of it was written yet."""
    states = state_dir(request.states_base, member["member_id"], plan["target_cluster_id"], topic["target"])
    previous = None if verified is not None else load_plan(states)
    if previous is not None and datetime.fromisoformat(previous["created_at"]) < datetime.fromisoformat(
            plan["created_at"]):
        previous = None  # left by an earlier restore of the same member into the same topic
    if previous is not None and previous.get("completed_at"):
        return outcomes(load_partitions(states, previous["partitions"])), None
    partitions = tuple(member["partitions"])
    mapping = {p: p for p in partitions} if member["partition_count"] != topic["partitions"] else None
    # force: the earlier links' records are in the target already (the set's preflight judged it empty)
    one = member_request(request, member["set_id"], member["member_id"], partitions, topic["target"], force=True,
                         resume=previous is not None, partition_map=mapping)
    scan = (verified or {}).get(member["member_id"])
    checked = (scan.manifest, list(scan.selections), scan.stats) if scan is not None else None
    result = await restore_backup(cluster, one, overall.member_emit(topic["target"]), verified=checked)
    return result.partitions, result.metrics


async def _commit_groups(cluster: ClusterConfig, request: SetRestoreRequest, plan: dict[str, Any],
                         progress: dict[str, list[PartitionProgress]]) -> list[TopicGroupCommit]:
    groups = plan.get("groups")
    if groups is None:
        return []
    commits = []
    async with KafkaSession(cluster) as session:
        for topic in plan["topics"]:
            backed_up = topic["groups"]
            wanted = tuple(g for g in (groups or sorted(backed_up)) if g in backed_up)
            if not wanted or not progress.get(topic["source"]):
                continue
            for commit in await commit_group_offsets(session, topic["target"], backed_up, wanted,
                                                     progress[topic["source"]], request.force):
                commits.append(TopicGroupCommit(topic["target"], commit))
    return commits
