"""Continuous backup: a chain of incremental links, one sealed every ``roll_seconds`` (sooner with
``roll_bytes``), each a recovery point, until stopped.

Each link snapshots the topics' end offsets when it starts and reads up to them; the next starts
from those ends. Stopped, the link in progress is abandoned (removed): every sealed link is complete.
Killed, the next ``--continuous`` run of the same selection removes the unfinished link and goes on
from the newest sealed one, so nothing is lost and nothing is read twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.changes import TopicRecreated
from kafka_sre_tui.engine.backup.run import PLAN_FILE
from kafka_sre_tui.engine.backup.set_events import LinkSealed, SetEmit, SetResult
from kafka_sre_tui.engine.backup.set_parent import named_set, newest_of_selection, same_selection
from kafka_sre_tui.engine.backup.set_plan import SetRequest, describe_selection
from kafka_sre_tui.engine.backup.set_run import backup_link
from kafka_sre_tui.engine.backup.workers_set import link_of_group
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offsets import LATEST, READ_COMMITTED, list_offsets
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.storage.backup_set import SET_MANIFEST, SET_PLAN, SetManifest, read_set_manifest, set_dir
from kafka_sre_tui.engine.storage.layout import RUNNING_LOCK, is_backup_id, new_backup_id
from kafka_sre_tui.engine.storage.store import Location, read_json

DEFAULT_RECORD_BYTES = 1024  # the record size --roll-bytes assumes until a link has seen records
POLL_SECONDS = 1.0


async def follow(cluster: ClusterConfig, base: Location, request: SetRequest, emit: SetEmit,
                 now: Callable[[], datetime], stop: asyncio.Event) -> SetResult:
    parent = (named_set(base, request.incremental_from) if request.incremental_from
              else newest_of_selection(base, request.selection, with_continuous=True))
    notes = clear_unfinished(base, request, parent)
    sealed: list[str] = []
    while not stop.is_set():
        set_id = new_backup_id(request.name, now())
        started = time.monotonic()
        link = asyncio.create_task(backup_link(cluster, base, request, parent, set_id, emit, now))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({link, stopping}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # cancelled by the caller (a dashboard job): abandon the link, as on SIGTERM
            stopping.cancel()
            await _stop_link(link, base, set_id)
            raise
        stopping.cancel()
        if not link.done():
            completed = await _stop_link(link, base, set_id)
            if completed is not None:  # sealed just as it was stopped: keep it
                parent = completed
                sealed.append(set_id)
            break
        try:
            result = link.result()
        except TopicRecreated as exc:  # the next link sees the new topic id and starts its chain again
            _abandon(base, set_id)
            notes += (f"{exc}; abandoned link {set_id}, the next link starts a new chain for that topic",)
            continue
        parent = result.manifest
        sealed.append(set_id)
        lag_records, lag_seconds = await _lag(cluster, parent, now)
        emit(LinkSealed(set_id, int(parent.chain["link"]), parent.records, lag_records, lag_seconds, result.notes))
        await _wait_for_roll(cluster, parent, request, stop, started)
    if parent is None:
        raise KsreError(f"continuous backup of {describe_selection(request)} stopped before its first link was "
                        "sealed: nothing was kept")
    return SetResult(parent.set_id, set_dir(base, parent.set_id), parent, tuple(sealed), notes)


def clear_unfinished(base: Location, request: SetRequest, parent: SetManifest | None) -> tuple[str, ...]:
    """Remove the link a killed run of this continuous backup left unfinished (the next link reads its
    range again); refuse to start while another run of it is writing a link."""
    notes = []
    parent_id = parent.set_id if parent is not None else None
    for folder in sorted(base.iterdir(), key=str) if base.is_dir() else ():
        if not is_backup_id(folder.name) or (folder / SET_MANIFEST).exists():
            continue
        if not (folder / SET_PLAN).exists():
            if _killed_while_starting(folder, request.name):
                folder.remove_tree()
                notes.append(f"removed {folder.name}, a link killed before it had started reading")
            continue
        try:
            plan = read_json(folder / SET_PLAN)
        except (OSError, ValueError):
            continue
        if not same_selection(plan.get("selection", {}), request.selection, with_continuous=True):
            continue
        group = link_of_group(base, folder.name)
        if group is not None:
            raise ConfigError(f"link {folder.name} of {describe_selection(request)} belongs to workers group "
                              f"'{group}': continue the chain with --workers-group {group}")
        if folder.is_locked():
            raise ConfigError(f"a continuous backup of {describe_selection(request)} is already running (writing "
                              f"link {folder.name}); stop it before starting another")
        if plan.get("chain", {}).get("parent") == parent_id:
            folder.remove_tree()
            notes.append(f"removed the unfinished link {folder.name} of a stopped run; this run reads its range "
                         "again")
    return tuple(notes)


def _killed_while_starting(folder: Location, name: str) -> bool:
    """A link of this backup (its name is in the id) killed before its plan was written: nothing but
    its lock and members' plans in it, and nobody holding it."""
    if folder.name[20:-7] != name or not folder.is_dir() or folder.is_locked():
        return False
    return all(file == RUNNING_LOCK or file.endswith(f"/{PLAN_FILE}") for file, _size in folder.files())


async def _stop_link(link: asyncio.Task[SetResult], base: Location, set_id: str) -> SetManifest | None:
    link.cancel()
    await asyncio.gather(link, return_exceptions=True)
    return _abandon(base, set_id)


def _abandon(base: Location, set_id: str) -> SetManifest | None:
    """Remove a link stopped before it was sealed; its manifest if it was sealed after all."""
    folder = base / set_id
    if (folder / SET_MANIFEST).exists():
        return read_set_manifest(folder)[0]
    if folder.exists():
        folder.remove_tree()
    return None


async def _ends(session: KafkaSession, sealed: SetManifest) -> dict[TopicPartition, int]:
    topics = [m.name for m in sealed.members]
    leaders = partition_leaders(await session.metadata_object(topics))
    return await list_offsets(session, leaders, LATEST, READ_COMMITTED)


def _waiting(sealed: SetManifest, ends: dict[TopicPartition, int]) -> int:
    """Committed records (offsets) the topics hold past the sealed link's ends."""
    done = {TopicPartition(m.name, p.partition): p.end_offset for m in sealed.members for p in m.partitions}
    return sum(max(0, end - done.get(tp, 0)) for tp, end in ends.items())


async def _lag(cluster: ClusterConfig, sealed: SetManifest,
               now: Callable[[], datetime]) -> tuple[int | None, float | None]:
    try:
        async with KafkaSession(cluster) as session:
            return await link_lag(session, sealed, now)
    except KsreError:
        return None, None  # the next link retries while the cluster is away


async def link_lag(session: KafkaSession, sealed: SetManifest, now: Callable[[], datetime]) -> tuple[int, float]:
    """The committed records the topics hold past a sealed link, and how long ago its ends were taken."""
    waiting = _waiting(sealed, await _ends(session, sealed))
    behind = (now() - datetime.fromisoformat(sealed.created_at)).total_seconds()
    return waiting, round(max(0.0, behind), 3) if waiting else 0.0


async def roll_bytes_due(session: KafkaSession, sealed: SetManifest, roll_bytes: int) -> bool:
    """About ``roll_bytes`` of records wait past the sealed link (estimated from its record size)."""
    read, records = int(sealed.metrics.get("bytes_read", 0)), sealed.records
    per_record = read / records if records else DEFAULT_RECORD_BYTES
    return _waiting(sealed, await _ends(session, sealed)) * per_record >= roll_bytes


async def _wait_for_roll(cluster: ClusterConfig, sealed: SetManifest, request: SetRequest, stop: asyncio.Event,
                         started: float) -> None:
    """Until ``roll_seconds`` after the link started, or sooner once about ``roll_bytes`` of records
    wait past it (estimated from the record size read so far), or until stopped."""
    deadline = started + request.roll_seconds
    if request.roll_bytes is None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, deadline - time.monotonic()))
        return
    while not stop.is_set() and time.monotonic() < deadline:
        with contextlib.suppress(KsreError):
            async with KafkaSession(cluster) as session:
                while not stop.is_set() and time.monotonic() < deadline:
                    if await roll_bytes_due(session, sealed, request.roll_bytes):
                        return
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), POLL_SECONDS)
