"""Back up a set of topics as one backup: one Kafka session, one fetch loop per partition leader
across every partition of every topic, one ordinary backup per topic (a member), ``set.json`` last.

A full set reads every selected topic; an incremental link reads each partition from where its
parent link ended. ``continuous`` requests are handed to :mod:`.continuous`. See the "Backup sets and
chains" section of docs/backup-format.md.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.changes import TopicRecreated
from kafka_sre_tui.engine.backup.disk import still_needed, storage_error
from kafka_sre_tui.engine.backup.fetch_loop import FetchSettings, LoopHooks, checkpoint_all, fetch_until_done
from kafka_sre_tui.engine.backup.partition import PartitionBackup, PartitionState
from kafka_sre_tui.engine.backup.plan import BackupPlan
from kafka_sre_tui.engine.backup.run import PLAN_FILE, durable_state, finish_backup, prepare_base
from kafka_sre_tui.engine.backup.set_events import SetEmit, SetProgress, SetResult, TopicProgress, ignore
from kafka_sre_tui.engine.backup.set_parent import find_parent
from kafka_sre_tui.engine.backup.set_plan import SetPlan, SetRequest, make_set_plan, topic_ids, validate_set_request
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.jobs import Checkpointed
from kafka_sre_tui.engine.kafka.retry import retry_while_away
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.storage.backup_set import (
    SET_FINISHING,
    SET_MANIFEST,
    SET_PLAN,
    SetManifest,
    SetMember,
    SetPartition,
    member_dir,
    set_dir,
    write_set_manifest,
)
from kafka_sre_tui.engine.storage.codecs import codec
from kafka_sre_tui.engine.storage.encryption import EncryptionKey, check_key
from kafka_sre_tui.engine.storage.layout import new_backup_id, running
from kafka_sre_tui.engine.storage.manifest import MANIFEST, Manifest, read_manifest
from kafka_sre_tui.engine.storage.store import Location, StoreError, open_location, read_json, write_json

Now = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RunOptions:
    """How a set is read (not what it holds: that is its plan), so a resumed set may change them."""

    max_concurrent_backups: int = 2
    checkpoint_seconds: float = 5.0
    rate_limit_mb_s: float | None = None
    encryption_key: EncryptionKey | None = None

    @classmethod
    def of(cls, request: SetRequest) -> RunOptions:
        return cls(request.max_concurrent_backups, request.checkpoint_seconds, request.rate_limit_mb_s,
                   request.encryption_key)


async def backup_set(cluster: ClusterConfig, request: SetRequest, emit: SetEmit = ignore, now: Now = _utc_now,
                     stop: asyncio.Event | None = None) -> SetResult:
    """Back up every topic the request selects as one set (one link of a chain when incremental).
    ``stop`` ends a continuous backup once the link in progress is sealed or abandoned."""
    validate_set_request(request)
    base = prepare_base(request.base_path)
    if request.continuous:
        from kafka_sre_tui.engine.backup.continuous import follow

        return await follow(cluster, base, request, emit, now, stop or asyncio.Event())
    parent, notes = find_parent(base, request)
    result = await backup_link(cluster, base, request, parent, new_backup_id(request.name, now()), emit, now)
    return replace(result, notes=notes + result.notes)


async def backup_link(cluster: ClusterConfig, base: Location, request: SetRequest, parent: SetManifest | None,
                      set_id: str, emit: SetEmit, now: Now) -> SetResult:
    """One set, full (no parent) or incremental; while the cluster is away it pauses and resumes from
    its last checkpoint, as a one-topic backup does."""
    options = RunOptions.of(request)
    started = now()

    async def attempt(again: bool) -> SetResult:
        if again and (base / set_id / SET_PLAN).exists():
            return await _resume_once(cluster, base, set_id, options, emit, now)
        async with KafkaSession(cluster) as session:
            plan, members = await make_set_plan(session, request, set_id, started, parent)
            folder = base / set_id
            with running(base, folder, set_id, options.max_concurrent_backups):
                try:  # the members' plans first: set-plan.json makes the set resumable
                    await asyncio.gather(*(asyncio.to_thread(_write_member_plan, folder, m) for m in members))
                    write_json(folder / SET_PLAN, plan.to_json())
                except OSError as exc:
                    raise storage_error(exc, folder, set_id, None) from None
                states = {m.backup_id: [PartitionState.fresh(p) for p in m.partitions] for m in members}
                return await _run(session, folder, plan, members, states, {}, options, emit, now)

    def resumable() -> str | None:
        return resume_hint(set_id) if (base / set_id / SET_PLAN).exists() else None

    return await retry_while_away(attempt, cluster.retry_seconds, emit, resumable)


async def resume_set(cluster: ClusterConfig, base_path: Location | Path | str, set_id: str, emit: SetEmit = ignore,
                     max_concurrent_backups: int = 2, rate_limit_mb_s: float | None = None,
                     checkpoint_seconds: float = 5.0, encryption_key: EncryptionKey | None = None,
                     now: Now = _utc_now) -> SetResult:
    """Continue an interrupted set from its last checkpoint (retrying as :func:`backup_set` does)."""
    base = open_location(base_path)
    options = RunOptions(max_concurrent_backups, checkpoint_seconds, rate_limit_mb_s, encryption_key)

    async def attempt(_again: bool) -> SetResult:
        return await _resume_once(cluster, base, set_id, options, emit, now)

    return await retry_while_away(attempt, cluster.retry_seconds, emit, lambda: resume_hint(set_id))


def resume_hint(set_id: str) -> str:
    return f"backup set {set_id} is incomplete: continue it with kafka-sre-tui backup --resume {set_id}"


async def _resume_once(cluster: ClusterConfig, base: Location, set_id: str, options: RunOptions, emit: SetEmit,
                       now: Now) -> SetResult:
    folder = set_dir(base, set_id)
    if (folder / SET_MANIFEST).exists():
        raise ConfigError(f"backup set {set_id} is already complete; nothing to resume")
    if not (folder / SET_PLAN).exists():
        raise ConfigError(f"{folder} holds no resumable backup set (no {SET_PLAN}); list them with: "
                          "kafka-sre-tui backups list")
    with running(base, folder, set_id, options.max_concurrent_backups):
        plan = SetPlan.from_json(read_json(folder / SET_PLAN))
        check_key(set_id, plan.encryption, options.encryption_key)  # the same key, or a clear error
        members, states, finished = [], {}, {}
        for m in plan.members:
            where = member_dir(folder, m.member_id)
            if (where / MANIFEST).exists():  # finished before the last run stopped
                finished[m.member_id] = read_manifest(where)[0]
                continue
            member = BackupPlan.from_json(read_json(where / PLAN_FILE))
            members.append(member)
            where.discard_unfinished_uploads()
            states[m.member_id] = [durable_state(where, p) for p in member.partitions]
        async with KafkaSession(cluster) as session:
            cluster_id = (await session.metadata([])).to_object().get("cluster_id")
            if cluster_id != plan.source["cluster_id"]:
                raise ConfigError(f"backup set {set_id} was taken from cluster id {plan.source['cluster_id']}, "
                                  f"but --cluster points at {cluster_id}; resume against the same cluster")
            return await _run(session, folder, plan, members, states, finished, options, emit, now)


async def _run(session: KafkaSession, folder: Location, plan: SetPlan, members: list[BackupPlan],
               states: dict[str, list[PartitionState]], finished: dict[str, Manifest], options: RunOptions,
               emit: SetEmit, now: Now) -> SetResult:
    """Back up ``members`` (those not ``finished`` by an earlier run) and seal the set."""
    codec_obj, level = codec(plan.compression["codec"], plan.compression["level"])
    by_member: dict[str, list[PartitionBackup]] = {}
    parts: dict[TopicPartition, PartitionBackup] = {}
    for member in members:
        cipher = check_key(member.backup_id, member.encryption, options.encryption_key)
        where = member_dir(folder, member.backup_id)
        mine = [PartitionBackup(where, s, codec_obj, level, None, cipher) for s in states[member.backup_id]]
        by_member[member.backup_id] = mine
        parts.update({TopicPartition(member.topic["name"], p.state.partition): p for p in mine})
    progress = _SetProgress(plan.set_id, members, finished, parts, emit)

    async def same_topics() -> None:
        await check_same_topics(session, plan.set_id, members)

    hooks = LoopHooks(check_topics=same_topics, progress=progress.emit_maybe,
                      checkpointed=lambda: emit(Checkpointed()), seconds_ahead=progress.seconds_ahead,
                      what=f"set {plan.set_id}", resume_hint=resume_hint(plan.set_id))
    settings = FetchSettings(fetch_max_bytes=32 << 20, partition_fetch_max_bytes=8 << 20,
                             rate_limit_mb_s=options.rate_limit_mb_s, checkpoint_seconds=options.checkpoint_seconds,
                             prefetch=True)
    try:
        errors = await fetch_until_done(session, parts, settings, hooks)
        await same_topics()
        await checkpoint_all(parts)
        emit(Checkpointed())
        progress.emit_now()
        seconds = time.monotonic() - progress.started

        def finish(member: BackupPlan) -> Manifest:
            durable = [p.state for p in by_member[member.backup_id]]
            where = member_dir(folder, member.backup_id)
            return finish_backup(where, member, durable, seconds, errors, now, {"set_id": plan.set_id}).manifest

        manifests = await asyncio.gather(*(asyncio.to_thread(finish, m) for m in members))
        finished.update((m.backup_id, done) for m, done in zip(members, manifests, strict=True))
    except OSError as exc:  # disk full, file size limit, permissions: what was checkpointed stays resumable
        each = parts.values()
        need = still_needed(sum(p.raw_bytes for p in each), sum(p.writer.bytes_written + p.state.stored_bytes
                                                               for p in each),
                            sum(p.state.stored_bytes for p in each), sum(p.offsets_seen for p in each),
                            sum(p.end_offset - p.state.start_offset for p in each))
        raise storage_error(exc, folder, plan.set_id, need) from None
    except StoreError as exc:
        if resume_hint(plan.set_id) in str(exc):
            raise
        raise StoreError(f"{exc}; {resume_hint(plan.set_id)}") from exc
    manifest = build_set_manifest(plan, [finished[m.member_id] for m in plan.members], errors,
                                  time.monotonic() - progress.started, now)
    write_set_manifest(folder, manifest)
    (folder / SET_PLAN).unlink(missing_ok=True)
    (folder / SET_FINISHING).unlink(missing_ok=True)  # a workers group's sealer that died left it
    return SetResult(plan.set_id, folder, manifest, (plan.set_id,), tuple(link_notes(manifest)))


def _write_member_plan(folder: Location, member: BackupPlan) -> None:
    where = member_dir(folder, member.backup_id)
    where.make_dirs()
    write_json(where / PLAN_FILE, member.to_json())


async def check_same_topics(session: KafkaSession, set_id: str, members: list[BackupPlan]) -> None:
    """Raise TopicRecreated when a topic's id is no longer the one the set started with."""
    if not members:
        return
    now = await topic_ids(session, [m.topic["name"] for m in members])
    for member in members:
        name, expected = member.topic["name"], member.topic.get("topic_id")
        if expected is not None and now.get(name) != expected:
            state = "deleted" if now.get(name) is None else f"deleted and created again (topic id {expected}, " \
                                                             f"now {now.get(name)})"
            raise TopicRecreated(f"topic '{name}' was {state} while backup set {set_id} ran: nothing of the new "
                                 "topic was mixed in; the set is left incomplete (it cannot be resumed): start a "
                                 "new backup")


def build_set_manifest(plan: SetPlan, manifests: list[Manifest], errors: int, seconds: float, now: Now) -> SetManifest:
    lost = {m.member_id: m.lost for m in plan.members}
    members = []
    for member_plan, manifest in zip(plan.members, manifests, strict=True):
        parts = tuple(SetPartition(
            partition=p.partition, start_offset=p.start_offset, end_offset=p.end_offset, records=p.records,
            first_timestamp=p.first_timestamp, last_timestamp=p.last_timestamp,
            lost=tuple(lost[manifest.backup_id][str(p.partition)])  # type: ignore[arg-type]
            if str(p.partition) in lost[manifest.backup_id] else None) for p in manifest.partitions)
        members.append(SetMember(topic=manifest.topic, member_id=manifest.backup_id, partitions=parts,
                                 chain_start=member_plan.chain_start, note=member_plan.note))
    read = sum(int(m.metrics["bytes_read"]) for m in manifests)
    written = sum(int(m.metrics["bytes_written"]) for m in manifests)
    metrics = {"duration_seconds": round(seconds, 3), "messages": sum(m.records for m in manifests),
               "bytes_read": read, "bytes_written": written,
               "compression_ratio": round(read / written, 3) if written else 0.0,
               "throughput_mb_s": round(read / 1e6 / seconds, 2) if seconds > 0 else 0.0, "errors": errors,
               "topics": len(manifests), "partitions": sum(len(m.partitions) for m in manifests)}
    return SetManifest(set_id=plan.set_id, created_at=plan.created_at, completed_at=now().isoformat(),
                       source=plan.source, selection=plan.selection, compression=plan.compression, kind=plan.kind,
                       chain=plan.chain, members=tuple(members), consumer_groups=plan.consumer_groups,
                       metrics=metrics, encryption=plan.encryption)


def link_notes(manifest: SetManifest) -> list[str]:
    """What an operator must know about a link: ranges retention deleted before they were read, and
    topics whose chain starts again here."""
    notes = []
    for member in manifest.members:
        if member.note:
            notes.append(f"topic '{member.name}': {member.note}; its chain starts again in {manifest.set_id} "
                         "(read in full)")
        for p in member.partitions:
            if p.lost:
                notes.append(f"topic '{member.name}' partition {p.partition}: offsets {p.lost[0]}-{p.lost[1] - 1} "
                             f"({p.lost[1] - p.lost[0]:,} offsets) were deleted by retention before this link "
                             "read them: they are lost (recorded as 'lost' in set.json)")
    return notes


class _SetProgress:
    def __init__(self, set_id: str, members: list[BackupPlan], finished: dict[str, Manifest],
                 parts: dict[TopicPartition, PartitionBackup], emit: SetEmit) -> None:
        self.set_id, self.parts, self.emit = set_id, parts, emit
        self.started = time.monotonic()
        every: list[BackupPlan | Manifest] = [*members, *finished.values()]
        self.topics = sorted(m.topic["name"] for m in every)
        self.totals: dict[str, int] = {m.topic["name"]: sum(p.end_offset - p.start_offset for p in m.partitions)
                                       for m in every}
        self.initial_bytes = sum(p.raw_bytes for p in parts.values())
        self._last = 0.0

    def snapshot(self) -> SetProgress:
        records: dict[str, int] = defaultdict(int)
        read: dict[str, int] = defaultdict(int)
        offsets: dict[str, int] = defaultdict(int)
        done_parts = 0
        for tp, p in self.parts.items():
            records[tp.topic] += p.records
            read[tp.topic] += p.raw_bytes
            offsets[tp.topic] += min(p.position, p.state.end_offset) - p.state.start_offset
            done_parts += p.done
        # a member finished in an earlier run has no partitions here: it counts as done
        topics = tuple(TopicProgress(t, records[t], read[t], offsets[t] if t in offsets else self.totals[t],
                                     self.totals[t]) for t in self.topics)
        return SetProgress(set_id=self.set_id, topics=topics, records=sum(records.values()),
                           bytes=sum(read.values()), elapsed_seconds=time.monotonic() - self.started,
                           offsets_done=sum(t.offsets_done for t in topics),
                           offsets_total=sum(self.totals.values()), partitions_done=done_parts,
                           partitions_total=len(self.parts))

    def seconds_ahead(self, limit_mb_s: float) -> float:
        read = sum(p.raw_bytes for p in self.parts.values()) - self.initial_bytes
        return max(0.0, read / 1e6 / limit_mb_s - (time.monotonic() - self.started))

    def emit_maybe(self) -> None:
        if time.monotonic() - self._last >= 0.25:
            self.emit_now()

    def emit_now(self) -> None:
        self._last = time.monotonic()
        self.emit(self.snapshot())
