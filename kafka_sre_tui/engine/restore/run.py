"""Restore a backup into a topic (same or another cluster): verified first, checked before the first
write, faithful, resumable exactly once, with consumer offsets translated through the exact map.

Order of work: verify every checksum of the backup while reading the selected records' facts; look at
the target; preflight (all that --dry-run does); create the topic if asked; record each target
partition's end offset as its start and write the plan durably; write with the topic writer,
checkpointing every ``checkpoint_seconds``; commit translated group offsets. See docs/restore.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.audit import AuditOutcome, audited, refuse_read_only, request_parameters
from kafka_sre_tui.engine.backup.catalog import find_backup
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.heap import keep_large_buffers
from kafka_sre_tui.engine.input_checks import check_topic_name
from kafka_sre_tui.engine.kafka.batches import BatchFormatError
from kafka_sre_tui.engine.kafka.retry import retry_while_away
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.kafka.topic_settings import set_topic_configs
from kafka_sre_tui.engine.kafka.topic_writer import WriterSettings
from kafka_sre_tui.engine.restore.events import BackupDamaged, Emit, PreflightFailed, RestoreResult, Resumed, ignore
from kafka_sre_tui.engine.restore.offsets import commit_group_offsets
from kafka_sre_tui.engine.restore.plan import (
    PartitionSelection,
    RestoreRequest,
    select,
    validate_request,
)
from kafka_sre_tui.engine.restore.preflight import evaluate
from kafka_sre_tui.engine.restore.scan import RangeScanner, RangeStats
from kafka_sre_tui.engine.restore.state import (
    PartitionProgress,
    load_partitions,
    load_plan,
    locked,
    save_partition,
    save_plan,
    state_dir,
)
from kafka_sre_tui.engine.restore.write import outcomes, skip_written, write_all
from kafka_sre_tui.engine.storage.blocks import BlockError
from kafka_sre_tui.engine.storage.encryption import unlock_backup
from kafka_sre_tui.engine.storage.manifest import Manifest, ManifestError, read_manifest
from kafka_sre_tui.engine.storage.store import Location
from kafka_sre_tui.engine.storage.verify import VerifyResult, verify_backup
from kafka_sre_tui.engine.target.topic import (
    batch_bytes,
    create_topic,
    end_offsets,
    inspect_target,
    stable_end_offsets,
    timestamps_kept,
)

VerifiedPlan = tuple[Manifest, list[PartitionSelection], dict[int, RangeStats]]


async def restore_backup(cluster: ClusterConfig, request: RestoreRequest, emit: Emit = ignore,
                         now: Callable[[], datetime] = lambda: datetime.now(UTC),
                         settle_seconds: float = 0.5, verified: VerifiedPlan | None = None) -> RestoreResult:
    """Restore a backup. While the cluster is away (a broker restarting) the restore pauses and then
    resumes from its durable state exactly as ``--resume`` does (nothing written twice), for up to
    ``cluster.retry_seconds``; past that it stops, resumable, with the error. ``verified``: what
    :func:`verified_plan` gave the caller for this request just before (a set restore verifies every
    member before its first write), so the backup is not read once more to verify it again."""
    validate_request(request)
    parameters = request_parameters(request, "backup_base", "dry_run")
    refuse_read_only(cluster.read_only and not request.dry_run, cluster.name, cluster.source, "restore",
                     "restore into", "pick another --cluster", topic=request.target_topic, parameters=parameters)
    if request.dry_run:
        return await _restore(cluster, request, emit, now, settle_seconds, AuditOutcome(), verified)
    with audited("restore", cluster=cluster.name, topic=request.target_topic, parameters=parameters) as outcome:
        result = await _restore(cluster, request, emit, now, settle_seconds, outcome, verified)
        outcome.parameters["records_written"] = result.metrics.messages if result.metrics else 0
        return result


async def _restore(cluster: ClusterConfig, request: RestoreRequest, emit: Emit, now: Callable[[], datetime],
                   settle_seconds: float, outcome: AuditOutcome, verified: VerifiedPlan | None) -> RestoreResult:
    folder = find_backup(request.backup_base, request.backup_id)
    unlock_backup(folder, request.encryption_key)  # the right key, or a clear error before anything
    keep_large_buffers()
    wrote_state: list[Path] = []

    async def attempt(again: bool) -> RestoreResult:
        resume = request.resume or (again and bool(wrote_state))
        return await _restore_once(cluster, dataclasses.replace(request, resume=resume), folder, emit, now,
                                   settle_seconds, wrote_state, outcome, None if resume else verified)

    def resumable() -> str | None:
        return "the restore is incomplete: continue it with the same command and --resume" if wrote_state else None

    return await retry_while_away(attempt, cluster.retry_seconds, emit, resumable)


async def _restore_once(cluster: ClusterConfig, request: RestoreRequest, folder: Location, emit: Emit,
                        now: Callable[[], datetime], settle_seconds: float, wrote_state: list[Path],
                        outcome: AuditOutcome, verified: VerifiedPlan | None) -> RestoreResult:
    manifest, selections, stats = verified or await verified_plan(folder, request)
    if request.target_topic is None:  # the manifest's name becomes a topic and a directory name: check it
        check_topic_name(str(manifest.topic.get("name")), "the backed-up topic's name")
    topic = outcome.topic = request.target_topic or manifest.topic["name"]
    async with KafkaSession(cluster) as session:
        target = await inspect_target(session, topic)
        states = state_dir(request.states_base, manifest.backup_id, target.cluster_id, topic)
        previous = load_plan(states)
        if request.resume:
            if previous is None:
                raise ConfigError(f"no restore of backup {manifest.backup_id} into '{topic}' on cluster "
                                  f"'{cluster.name}' to resume (looked in {states})")
            return await _resume(session, request, folder, manifest, topic, states, previous, emit, settle_seconds)
        if previous is not None and not previous.get("completed_at") and not request.force and not request.dry_run:
            raise KsreError(f"an interrupted restore of backup {manifest.backup_id} into '{topic}' exists ({states}); "
                            "continue it with --resume (nothing is written twice)")
        preflight = evaluate(request, manifest, selections, stats, target, cluster.name, cluster.read_only, topic,
                             int(now().timestamp() * 1000))
        emit(preflight)
        if request.dry_run:
            return RestoreResult(manifest.backup_id, cluster.name, topic, True, preflight, (), None, (), None)
        if not preflight.ok:
            failures = preflight.failures
            more = f" (and {len(failures) - 1} more; see the preflight above)" if len(failures) > 1 else ""
            raise PreflightFailed(f"restore refused: {failures[0].message}{more}; nothing was written")
        with locked(states):
            create_with, set_after = timestamps_kept(preflight.create_configs) if preflight.create else ({}, {})
            if preflight.create:
                await create_topic(session, topic, preflight.partitions, preflight.replication_factor or 1,
                                   create_with)
            configs = {**target.configs, **create_with} if preflight.create else target.configs
            starts = await end_offsets(session, topic, [s.target_partition for s in selections])
            progress = [PartitionProgress.fresh(s, starts[s.target_partition]) for s in selections]
            plan = {"backup_id": manifest.backup_id, "source_topic": manifest.topic["name"], "target_topic": topic,
                    "target_cluster": cluster.name, "target_cluster_id": target.cluster_id,
                    "created_at": now().isoformat(), "completed_at": None,
                    "partitions": [s.selection.partition for s in progress],
                    "new_timestamps": request.new_timestamps, "compression": request.compression,
                    "max_batch_bytes": batch_bytes(configs), "groups": request.restore_consumer_offsets,
                    "configs_after": set_after}
            for p in progress:  # durable before the first record: the resume's reference point
                await asyncio.to_thread(save_partition, states, p.to_json())
            await asyncio.to_thread(save_plan, states, plan)
            wrote_state.append(states)
            return dataclasses.replace(
                await _write(session, request, folder, manifest, topic, states, plan, progress, emit, now),
                preflight=preflight)


async def verified_plan(folder: Location, request: RestoreRequest) -> VerifiedPlan:
    """Verify every checksum of the backup and, in the same pass, read the selected records' facts for
    the preflight (not when resuming). Damage found by the verification is what is reported, whatever
    the selection made of it."""
    try:
        manifest, _intact = read_manifest(folder)
        selections = [] if request.resume else select(folder, manifest, request)
    except (ManifestError, KsreError, BlockError, BatchFormatError):
        await _refuse_damaged(folder, request)  # a damaged backup explains the failure better
        raise
    parts = {p.partition: p for p in manifest.partitions}
    scanners = {s.partition: RangeScanner(parts[s.partition], s) for s in selections}

    def inspect(partition: int, raw: bytes) -> None:
        if partition in scanners:
            scanners[partition].add_block(raw)

    _check_intact(await asyncio.to_thread(verify_backup, folder, inspect), request)
    return manifest, selections, {p: scanner.stats() for p, scanner in scanners.items()}


async def _refuse_damaged(folder: Location, request: RestoreRequest) -> None:
    _check_intact(await asyncio.to_thread(verify_backup, folder), request)


def _check_intact(verified: VerifyResult, request: RestoreRequest) -> None:
    if not verified.intact:
        first = verified.damage[0].describe(verified.backup_id)
        more = f" (and {len(verified.damage) - 1} more problems)" if len(verified.damage) > 1 else ""
        raise BackupDamaged(f"refusing to restore from a damaged backup: {first}{more}; nothing was written; "
                            f"see kafka-sre-tui verify {request.backup_id}")


async def _resume(session: KafkaSession, request: RestoreRequest, folder: Location, manifest: Manifest, topic: str,
                  states: Path, plan: dict[str, Any], emit: Emit, settle_seconds: float) -> RestoreResult:
    with locked(states):
        progress = load_partitions(states, plan["partitions"])
        pending = [p for p in progress if not p.done]
        if pending:
            ends = await stable_end_offsets(session, topic, [p.selection.target_partition for p in pending],
                                            settle_seconds)
            parts = {p.partition: p for p in manifest.partitions}
            found = []
            for p in pending:
                extra = ends[p.selection.target_partition] - p.target_next
                if extra < 0:
                    raise KsreError(f"target partition {p.selection.target_partition} of '{topic}' ends at offset "
                                    f"{ends[p.selection.target_partition]}, before the {p.target_next} this restore "
                                    "checkpointed: it was truncated or recreated; restore into a new topic")
                found.append((p.selection.partition, p.written, extra))
                await asyncio.to_thread(skip_written, folder, parts[p.selection.partition], p, extra)
                await asyncio.to_thread(save_partition, states, p.to_json())
            emit(Resumed(manifest.backup_id, topic, tuple(found)))
        return await _write(session, request, folder, manifest, topic, states, plan, progress, emit,
                            lambda: datetime.now(UTC))


async def _write(session: KafkaSession, request: RestoreRequest, folder: Location, manifest: Manifest, topic: str,
                 states: Path, plan: dict[str, Any], progress: list[PartitionProgress], emit: Emit,
                 now: Callable[[], datetime]) -> RestoreResult:
    metrics = None
    if not all(p.done for p in progress) or not plan.get("completed_at"):
        settings = WriterSettings(max_batch_bytes=plan["max_batch_bytes"], rate_limit_mb_s=request.rate_limit_mb_s,
                                  keep_timestamps=not plan["new_timestamps"], compression=plan["compression"])
        metrics = await write_all(session.cluster, topic, folder, {p.partition: p for p in manifest.partitions},
                                  progress, settings, states, request.checkpoint_seconds, manifest.backup_id, emit)
        plan = {**plan, "completed_at": plan.get("completed_at") or now().isoformat()}
        await asyncio.to_thread(save_plan, states, plan)
    if plan.get("configs_after"):  # every record is written (again on a resume: setting twice changes nothing)
        await set_topic_configs(session, topic, plan["configs_after"])
    groups = request.restore_consumer_offsets
    if groups is None and request.resume:
        groups = tuple(plan["groups"]) if plan.get("groups") is not None else None
    commits = []
    if groups is not None:
        commits = await commit_group_offsets(session, topic, manifest.consumer_groups, groups, progress,
                                             request.force)
    return RestoreResult(manifest.backup_id, session.cluster.name, topic, False, None, outcomes(progress), metrics,
                         tuple(commits), states)



