"""Back up a topic to a directory: consistent snapshot, read_committed, resumable, checksummed.

The partitions are read by :mod:`.fetch_loop` (one loop per partition leader); every
``checkpoint_seconds`` each partition seals its segment and records its progress; the manifest is
written last. See docs/backup-format.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.changes import check_same_topic, partitions_added
from kafka_sre_tui.engine.backup.disk import still_needed, storage_error
from kafka_sre_tui.engine.backup.fetch_loop import FetchSettings, LoopHooks, checkpoint_all, fetch_until_done
from kafka_sre_tui.engine.backup.partition import STATE_FILE, PartitionBackup, PartitionState
from kafka_sre_tui.engine.backup.plan import BackupPlan, BackupRequest, PartitionPlan, make_plan, validate_request
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.jobs import Checkpointed, Progress, Retrying
from kafka_sre_tui.engine.kafka.retry import retry_while_away
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.storage.codecs import codec
from kafka_sre_tui.engine.storage.encryption import EncryptionKey, check_key
from kafka_sre_tui.engine.storage.files import TMP_SUFFIX
from kafka_sre_tui.engine.storage.layout import backup_dir, new_backup_id, running
from kafka_sre_tui.engine.storage.manifest import (
    ENCRYPTED_FORMAT_VERSION,
    FORMAT_VERSION,
    MANIFEST,
    Manifest,
    PartitionManifest,
    write_manifest,
)
from kafka_sre_tui.engine.storage.store import Location, StoreError, open_location, read_json, write_json

PLAN_FILE = "backup.json"


@dataclass(frozen=True, kw_only=True)
class BackupProgress(Progress):
    """``bytes`` are the record batches read from Kafka; ``bytes_written`` what reached the disk."""

    backup_id: str
    bytes_written: int


@dataclass(frozen=True)
class BackupMetrics:
    duration_seconds: float
    messages: int
    bytes_read: int
    bytes_written: int
    compression_ratio: float
    throughput_mb_s: float
    errors: int


@dataclass(frozen=True)
class BackupResult:
    backup_id: str
    path: Location
    metrics: BackupMetrics
    manifest: Manifest


Emit = Callable[[BackupProgress | Checkpointed | Retrying], None]


def _ignore(_: BackupProgress | Checkpointed | Retrying) -> None:
    return None


async def backup_topic(cluster: ClusterConfig, request: BackupRequest, emit: Emit = _ignore,
                       now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> BackupResult:
    """Back up ``request.topic``. While the cluster is away (a broker restarting) the backup pauses and
    resumes from its last checkpoint, for up to ``cluster.retry_seconds``; past that it stops,
    resumable, with the error."""
    validate_request(request)
    started = now()
    backup_id = new_backup_id(request.topic, started)
    base = prepare_base(request.base_path)

    async def attempt(again: bool) -> BackupResult:
        if again and (base / backup_id / PLAN_FILE).exists():
            return await _resume_once(cluster, base, backup_id, emit, request.max_concurrent_backups,
                                      request.rate_limit_mb_s, request.checkpoint_seconds, request.encryption_key, now)
        return await _start_once(cluster, base, backup_id, request, started, emit, now)

    def resumable() -> str | None:
        return _resume_hint(backup_id) if (base / backup_id / PLAN_FILE).exists() else None

    return await retry_while_away(attempt, cluster.retry_seconds, emit, resumable)


def _resume_hint(backup_id: str) -> str:
    return f"backup {backup_id} is incomplete: continue it with kafka-sre-tui backup --resume {backup_id}"


async def _start_once(cluster: ClusterConfig, base: Location, backup_id: str, request: BackupRequest, started: datetime,
                      emit: Emit, now: Callable[[], datetime]) -> BackupResult:
    async with KafkaSession(cluster) as session:
        plan = await make_plan(session, request, backup_id, started)  # bad input fails here, before any file
        folder = base / backup_id
        with running(base, folder, backup_id, request.max_concurrent_backups):
            try:
                write_json(folder / PLAN_FILE, plan.to_json())
            except OSError as exc:
                raise storage_error(exc, folder, backup_id, None) from None
            states = [PartitionState.fresh(p) for p in plan.partitions]
            return await _run(session, folder, plan, states, request, emit, now)


async def resume_backup(cluster: ClusterConfig, base_path: Location | Path | str, backup_id: str, emit: Emit = _ignore,
                        max_concurrent_backups: int = 2, rate_limit_mb_s: float | None = None,
                        checkpoint_seconds: float = 5.0, encryption_key: EncryptionKey | None = None,
                        now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> BackupResult:
    """Continue an interrupted backup from its last checkpoint (retrying as :func:`backup_topic` does)."""
    base = open_location(base_path)

    async def attempt(_again: bool) -> BackupResult:
        return await _resume_once(cluster, base, backup_id, emit, max_concurrent_backups, rate_limit_mb_s,
                                  checkpoint_seconds, encryption_key, now)

    return await retry_while_away(attempt, cluster.retry_seconds, emit, lambda: _resume_hint(backup_id))


async def _resume_once(cluster: ClusterConfig, base_path: Location, backup_id: str, emit: Emit,
                       max_concurrent_backups: int, rate_limit_mb_s: float | None, checkpoint_seconds: float,
                       encryption_key: EncryptionKey | None,
                       now: Callable[[], datetime]) -> BackupResult:
    folder = backup_dir(base_path, backup_id)
    if (folder / MANIFEST).exists():
        raise ConfigError(f"backup {backup_id} is already complete; nothing to resume")
    if not (folder / PLAN_FILE).exists():
        raise ConfigError(f"{folder} holds no resumable backup (no {PLAN_FILE}); list them with: "
                          "kafka-sre-tui backups list")
    with running(base_path, folder, backup_id, max_concurrent_backups):
        plan = BackupPlan.from_json(read_json(folder / PLAN_FILE))
        check_key(backup_id, plan.encryption, encryption_key)  # the same key, or a clear error
        folder.discard_unfinished_uploads()  # the segment a killed run was uploading
        states = [durable_state(folder, p) for p in plan.partitions]
        request = BackupRequest(topic=plan.topic["name"], base_path=base_path,
                                compression=plan.compression["codec"], level=plan.compression["level"],
                                max_messages=plan.max_messages, rate_limit_mb_s=rate_limit_mb_s,
                                checkpoint_seconds=checkpoint_seconds,
                                encryption_key=encryption_key if plan.encryption else None)
        async with KafkaSession(cluster) as session:
            cluster_id = (await session.metadata([])).to_object().get("cluster_id")
            if cluster_id != plan.source["cluster_id"]:
                raise ConfigError(f"backup {backup_id} was taken from cluster id {plan.source['cluster_id']}, "
                                  f"but --cluster points at {cluster_id}; resume against the same cluster")
            await check_same_topic(session, plan)
            return await _run(session, folder, plan, states, request, emit, now)


def prepare_base(where: Location | Path | str) -> Location:
    base = open_location(where)
    try:
        base.make_dirs()
    except OSError as exc:
        raise ConfigError(f"cannot create backup directory {base} ({exc.strerror}); "
                          "check --backup-dir or [backup] base_path") from None
    return base


def durable_state(folder: Location, plan_part: PartitionPlan) -> PartitionState:
    """What the last run made durable; files it left half-written are removed."""
    part_dir = folder / "partitions" / str(plan_part.partition)
    state_path = part_dir / STATE_FILE
    state = PartitionState.load(state_path) if state_path.exists() else PartitionState.fresh(plan_part)
    keep = {str(folder / s.file) for s in state.segments} | {str(state_path)}
    for path in part_dir.iterdir() if part_dir.exists() else ():
        if str(path) not in keep:
            path.unlink()
    return state


async def _run(session: KafkaSession, folder: Location, plan: BackupPlan, states: list[PartitionState],
               request: BackupRequest, emit: Emit, now: Callable[[], datetime]) -> BackupResult:
    codec_obj, level = codec(plan.compression["codec"], plan.compression["level"])
    topic = plan.topic["name"]
    cipher = check_key(plan.backup_id, plan.encryption, request.encryption_key)
    parts = {TopicPartition(topic, s.partition): PartitionBackup(folder, s, codec_obj, level, plan.max_messages,
                                                                 cipher) for s in states}
    clock = time.monotonic()
    progress = _Progress(plan, parts, clock, emit)
    try:
        return await _fetch_all(session, folder, plan, parts, request, progress, now)
    except OSError as exc:  # disk full, file size limit, permissions: what was checkpointed stays resumable
        each = parts.values()
        need = still_needed(sum(p.raw_bytes for p in each), sum(p.writer.bytes_written + p.state.stored_bytes
                                                               for p in each),
                            sum(p.state.stored_bytes for p in each), sum(p.offsets_seen for p in each),
                            sum(p.end_offset - p.state.start_offset for p in each))
        raise storage_error(exc, folder, plan.backup_id, need) from None
    except StoreError as exc:  # the object store went away, maybe while finishing: say how to continue
        if _resume_hint(plan.backup_id) in str(exc):
            raise
        raise StoreError(f"{exc}; {_resume_hint(plan.backup_id)}") from exc


async def _fetch_all(session: KafkaSession, folder: Location, plan: BackupPlan,
                     parts: dict[TopicPartition, PartitionBackup], request: BackupRequest, progress: _Progress,
                     now: Callable[[], datetime]) -> BackupResult:
    topic = plan.topic["name"]

    async def same_topic() -> None:
        await check_same_topic(session, plan)

    hooks = LoopHooks(check_topics=same_topic, progress=progress.emit_maybe,
                      checkpointed=lambda: progress.emit(Checkpointed()), seconds_ahead=progress.seconds_ahead,
                      what=f"'{topic}'", resume_hint=_resume_hint(plan.backup_id))
    errors = await fetch_until_done(session, parts, fetch_settings(request), hooks)
    await check_same_topic(session, plan)
    await checkpoint_all(parts)
    progress.emit(Checkpointed())
    added = partitions_added(plan, (await session.metadata([topic])).to_object())
    progress.emit_now()
    states = [p.state for p in parts.values()]
    return finish_backup(folder, plan, states, time.monotonic() - progress.started, errors, now,
                         {"partitions_added_during_backup": added} if added else {})


def fetch_settings(request: BackupRequest) -> FetchSettings:
    return FetchSettings(fetch_max_bytes=request.fetch_max_bytes,
                         partition_fetch_max_bytes=request.partition_fetch_max_bytes,
                         rate_limit_mb_s=request.rate_limit_mb_s, checkpoint_seconds=request.checkpoint_seconds,
                         prefetch=request.max_messages is None)


class _Progress:
    def __init__(self, plan: BackupPlan, parts: dict[TopicPartition, PartitionBackup], started: float,
                 emit: Emit) -> None:
        self.plan, self.parts, self.started, self.emit = plan, parts, started, emit
        self.total = sum(p.end_offset - p.start_offset for p in plan.partitions)
        self.initial_bytes = sum(p.raw_bytes for p in parts.values())  # what a resumed backup already had
        self._last = 0.0

    def snapshot(self) -> BackupProgress:
        parts = self.parts.values()
        done_offsets = sum(min(p.position, p.state.end_offset) - p.state.start_offset for p in parts)
        return BackupProgress(
            backup_id=self.plan.backup_id, records=sum(p.records for p in parts),
            bytes=sum(p.raw_bytes for p in parts),
            bytes_written=sum(p.writer.bytes_written + p.state.stored_bytes for p in parts),
            offsets_done=done_offsets, offsets_total=self.total, elapsed_seconds=time.monotonic() - self.started,
            partitions_done=sum(p.done for p in parts), partitions_total=len(self.parts))

    def seconds_ahead(self, limit_mb_s: float) -> float:
        """How long to pause so that the bytes read so far stay within ``limit_mb_s``."""
        read = sum(p.raw_bytes for p in self.parts.values()) - self.initial_bytes
        return max(0.0, read / 1e6 / limit_mb_s - (time.monotonic() - self.started))

    def emit_maybe(self) -> None:
        if time.monotonic() - self._last >= 0.25:
            self.emit_now()

    def emit_now(self) -> None:
        self._last = time.monotonic()
        self.emit(self.snapshot())


def finish_backup(folder: Location, plan: BackupPlan, states: list[PartitionState], seconds: float, errors: int,
                  now: Callable[[], datetime], extra: dict[str, Any]) -> BackupResult:
    """Write the manifest of a backup whose partitions are all durable, and clean up after the run."""
    read = sum(s.raw_bytes for s in states)
    written = sum(s.stored_bytes for s in states)
    metrics = BackupMetrics(
        duration_seconds=round(seconds, 3), messages=sum(s.records for s in states), bytes_read=read,
        bytes_written=written, compression_ratio=round(read / written, 3) if written else 0.0,
        throughput_mb_s=round(read / 1e6 / seconds, 2) if seconds > 0 else 0.0, errors=errors)
    manifest = Manifest(
        backup_id=plan.backup_id, created_at=plan.created_at, completed_at=now().isoformat(), source=plan.source,
        topic=plan.topic, selection=plan.selection, compression=plan.compression,
        partitions=tuple(PartitionManifest(
            partition=s.partition, start_offset=s.start_offset, end_offset=s.end_offset,
            log_start_offset=next(p.log_start_offset for p in plan.partitions if p.partition == s.partition),
            records=s.records, raw_bytes=s.raw_bytes, stored_bytes=s.stored_bytes, first_offset=s.first_offset,
            last_offset=s.last_offset, first_timestamp=s.first_timestamp, last_timestamp=s.last_timestamp,
            gaps=tuple(s.gaps), gap_count=s.gap_count, segments=tuple(s.segments)) for s in states),
        consumer_groups=plan.consumer_groups, metrics=metrics.__dict__, encryption=plan.encryption,
        format_version=ENCRYPTED_FORMAT_VERSION if plan.encryption else FORMAT_VERSION,
        extra=extra)
    write_manifest(folder, manifest)
    (folder / PLAN_FILE).unlink(missing_ok=True)
    for s in states:
        (folder / "partitions" / str(s.partition) / STATE_FILE).unlink(missing_ok=True)
    for name, _size in list(folder.files()):
        if name.endswith(TMP_SUFFIX):
            (folder / name).unlink(missing_ok=True)
    folder.discard_unfinished_uploads()  # an aborted upload whose last part landed after the abort
    return BackupResult(plan.backup_id, folder, metrics, manifest)
