"""The progress of a workers group's set while it is written, read from its durable state alone.

Every partition's ``state.json`` names its owner (member id, generation) and when that owner last
checkpointed it (``checkpoint_at``, see :mod:`.workers_fence`); ``.workers/<group>/<run>.json`` names the
group's set. From these, without asking Kafka, a reader anywhere sees each worker's partitions, what it has
stored, what it has left, and whether it still checkpoints: a worker with partitions left and no checkpoint
for :data:`STALE_AFTER_SECONDS` is *stale* (dead, stalled or cut off from the store; the group moves a dead
worker's partitions after its session timeout). What the group's coordinator says of its members can be
added with :func:`with_members` when the cluster is at hand.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from kafka_sre_tui.engine.backup.plan import BackupPlan
from kafka_sre_tui.engine.backup.run import PLAN_FILE
from kafka_sre_tui.engine.backup.workers_fence import read_state
from kafka_sre_tui.engine.backup.workers_set import FINISHING, RUNS_DIR, newest_run
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.storage.backup_set import SET_MANIFEST, SET_PLAN, member_dir, set_dir
from kafka_sre_tui.engine.storage.layout import is_backup_id
from kafka_sre_tui.engine.storage.manifest import MANIFEST, ManifestError, read_manifest
from kafka_sre_tui.engine.storage.store import Location, open_location, read_json

STALE_AFTER_SECONDS = 60.0  # twelve checkpoints at the default --checkpoint-seconds 5


@dataclass(frozen=True)
class PartitionProgress:
    topic: str
    partition: int
    worker: str | None  # the member id of its owner; None: not claimed yet (or sealed without one)
    generation: int | None
    start_offset: int
    next_offset: int  # everything before it is durable
    end_offset: int
    records: int
    raw_bytes: int
    checkpoint_at: datetime | None  # its owner's last durable write of it

    @property
    def done(self) -> bool:
        return self.next_offset >= self.end_offset

    @property
    def offsets_left(self) -> int:
        return max(0, self.end_offset - self.next_offset)


class _PartitionTotals:
    """What a worker and the whole set show of their partitions, summed."""

    partitions: tuple[PartitionProgress, ...]

    @property
    def partitions_done(self) -> int:
        return sum(p.done for p in self.partitions)

    @property
    def records(self) -> int:
        return sum(p.records for p in self.partitions)

    @property
    def raw_bytes(self) -> int:
        return sum(p.raw_bytes for p in self.partitions)

    @property
    def offsets_left(self) -> int:
        return sum(p.offsets_left for p in self.partitions)

    @property
    def offsets(self) -> int:
        return sum(p.end_offset - p.start_offset for p in self.partitions)

    @property
    def checkpoint_at(self) -> datetime | None:
        """The newest checkpoint of any of the partitions."""
        return max((p.checkpoint_at for p in self.partitions if p.checkpoint_at is not None), default=None)


@dataclass(frozen=True)
class WorkerProgress(_PartitionTotals):
    """One member of the group, as its partitions' durable state records it."""

    worker: str
    generation: int  # the newest generation it claimed a partition in
    partitions: tuple[PartitionProgress, ...]
    stale: bool  # has partitions left, and no checkpoint for the stale threshold
    in_group: bool | None = None  # what the coordinator says (None: not asked)

    @property
    def state(self) -> str:
        """``done``, ``working``, ``stale`` (no recent checkpoint) or ``left group`` (the coordinator says so)."""
        if self.partitions_done == len(self.partitions):
            return "done"
        if self.in_group is False:
            return "left group"
        return "stale" if self.stale else "working"


@dataclass(frozen=True)
class Fleet(_PartitionTotals):
    set_id: str
    group: str | None  # None: the set's folder alone was read
    created_at: datetime
    partitions: tuple[PartitionProgress, ...]
    workers: tuple[WorkerProgress, ...]
    sealing: bool  # a worker is writing the manifests (finishing.json)
    stale_after: float
    read_at: datetime

    @property
    def unowned(self) -> tuple[PartitionProgress, ...]:
        """Partitions with offsets left that no worker has claimed yet."""
        return tuple(p for p in self.partitions if p.worker is None and not p.done)

    @property
    def fraction(self) -> float:
        total = self.offsets
        return 1.0 if total <= 0 else 1.0 - self.offsets_left / total

    @property
    def live_workers(self) -> tuple[WorkerProgress, ...]:
        return tuple(w for w in self.workers if w.state == "working")

    @property
    def seconds(self) -> float:
        """From the set's plan to its newest checkpoint: the time the durable progress took."""
        newest = self.checkpoint_at
        return 0.0 if newest is None else max(0.0, (newest - self.created_at).total_seconds())

    @property
    def mb_per_second(self) -> float | None:
        seconds = self.seconds
        return self.raw_bytes / 1e6 / seconds if seconds > 0 else None

    @property
    def eta_seconds(self) -> float | None:
        """At the durable rate so far (offsets per second since the plan), when every offset is stored."""
        stored, seconds = self.offsets - self.offsets_left, self.seconds
        if stored <= 0 or seconds <= 0:
            return None
        return self.offsets_left * seconds / stored


def _utc(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _sealed_partitions(where: Location, topic: str) -> list[PartitionProgress] | None:
    """A member sealed while the set is being finished (its manifest written, its state files removed)."""
    if not (where / MANIFEST).exists():
        return None
    try:
        parts = read_manifest(where)[0].partitions
    except ManifestError as exc:
        raise KsreError(f"{where / MANIFEST}: {exc}") from None
    return [PartitionProgress(topic, p.partition, None, None, p.start_offset, p.end_offset, p.end_offset,
                              p.records, p.raw_bytes, None) for p in parts]


def _member_partitions(where: Location, topic: str) -> list[PartitionProgress]:
    sealed = _sealed_partitions(where, topic)
    if sealed is not None:
        return sealed
    try:
        plan = BackupPlan.from_json(read_json(where / PLAN_FILE))
    except (OSError, ValueError, KsreError):
        return _sealed_partitions(where, topic) or []  # sealed meanwhile, or not planned yet
    found = []
    for part in plan.partitions:
        try:
            state = read_state(where, part)[0]  # a fresh state before its first claim
        except (ValueError, KeyError, TypeError) as exc:
            raise KsreError(f"{where}/partitions/{part.partition}/state.json cannot be read ({exc}); "
                            "its workers group cannot resume it either: see docs/backup-format.md") from None
        owner = state.owner or {}
        found.append(PartitionProgress(topic, part.partition, owner.get("worker"), owner.get("generation"),
                                       state.start_offset, state.next_offset, state.end_offset, state.records,
                                       state.raw_bytes, _utc(owner.get("checkpoint_at"))))
    return found


def read_fleet(folder: Location, now: datetime, stale_after: float = STALE_AFTER_SECONDS,
               group: str | None = None) -> Fleet | None:
    """The progress of an unfinished set, per partition and per owner; None when the set has no plan
    (sealed, or not a set)."""
    try:
        plan = read_json(folder / SET_PLAN)
    except (OSError, ValueError, KsreError):
        return None
    partitions: list[PartitionProgress] = []
    try:
        members = [(str(m["member_id"]), str(m["topic"])) for m in plan["members"]]
    except (KeyError, TypeError):
        raise KsreError(f"{folder / SET_PLAN}: no list of members with their ids and topics") from None
    for member_id, topic in members:
        partitions.extend(_member_partitions(member_dir(folder, member_id), topic))
    owners: dict[str, list[PartitionProgress]] = {}
    for p in partitions:
        if p.worker is not None:
            owners.setdefault(p.worker, []).append(p)
    workers = []
    for worker, owned in sorted(owners.items()):
        newest = max((p.checkpoint_at for p in owned if p.checkpoint_at is not None), default=None)
        silent = newest is None or (now - newest).total_seconds() > stale_after  # None: written before checkpoint_at
        workers.append(WorkerProgress(worker, max(p.generation or 0 for p in owned), tuple(owned),
                                      silent and any(not p.done for p in owned)))
    created = _utc(plan.get("created_at")) or now
    return Fleet(folder.name, group, created, tuple(partitions), tuple(workers),
                 (folder / FINISHING).exists(), stale_after, now)


def group_runs(base: Location) -> dict[str, str]:
    """Every workers group in ``base`` and the set of its newest run (the only set it may be writing)."""
    runs = base / RUNS_DIR
    if not runs.is_dir():
        return {}
    found = {}
    for folder in sorted(runs.iterdir(), key=str):
        try:
            newest = newest_run(base, folder.name) if folder.is_dir() else None
        except (OSError, ValueError, KeyError, TypeError, KsreError):
            newest = None  # a run file being written, or damaged: that group is left out
        if newest is not None and is_backup_id(newest[1]):
            found[folder.name] = newest[1]
    return found


def fleet_of_set(base: Location, set_id: str, now: datetime,
                 stale_after: float = STALE_AFTER_SECONDS) -> Fleet | None:
    """The set's fleet while a workers group writes it; None once it is sealed, or when it is not a
    workers group's set (one process writes it)."""
    base = open_location(base)
    folder = set_dir(base, set_id)
    if not folder.is_dir() or (folder / SET_MANIFEST).exists():
        return None
    group = next((g for g, s in group_runs(base).items() if s == set_id), None)
    fleet = read_fleet(folder, now, stale_after, group)
    return fleet if fleet is not None and (group is not None or fleet.workers) else None


def running_fleets(base: Location, now: datetime, stale_after: float = STALE_AFTER_SECONDS) -> list[Fleet]:
    """The fleet of every group whose newest set in ``base`` is not sealed yet."""
    base = open_location(base)
    if not base.is_dir():
        return []
    fleets = []
    for group, set_id in group_runs(base).items():  # (group_runs checked each set id's form)
        folder = set_dir(base, set_id)
        if folder.is_dir() and not (folder / SET_MANIFEST).exists():
            fleet = read_fleet(folder, now, stale_after, group)
            if fleet is not None:
                fleets.append(fleet)
    return fleets


def with_members(fleet: Fleet, members: set[str]) -> Fleet:
    """The fleet with each worker marked in or out of the group, as its coordinator lists the members."""
    return replace(fleet, workers=tuple(replace(w, in_group=w.worker in members) for w in fleet.workers))


def fleet_json(fleet: Fleet) -> dict[str, Any]:
    def part(p: PartitionProgress) -> dict[str, Any]:
        return {"topic": p.topic, "partition": p.partition, "worker": p.worker, "generation": p.generation,
                "start_offset": p.start_offset, "next_offset": p.next_offset, "end_offset": p.end_offset,
                "records": p.records, "raw_bytes": p.raw_bytes, "done": p.done,
                "checkpoint_at": p.checkpoint_at.isoformat() if p.checkpoint_at else None}

    return {"set_id": fleet.set_id, "group": fleet.group, "status": "sealing" if fleet.sealing else "running",
            "created_at": fleet.created_at.isoformat(), "read_at": fleet.read_at.isoformat(),
            "stale_after_seconds": fleet.stale_after, "fraction": round(fleet.fraction, 4),
            "partitions": len(fleet.partitions), "partitions_done": fleet.partitions_done,
            "unowned": len(fleet.unowned), "records": fleet.records, "raw_bytes": fleet.raw_bytes,
            "offsets_left": fleet.offsets_left,
            "mb_per_second": None if fleet.mb_per_second is None else round(fleet.mb_per_second, 3),
            "eta_seconds": None if fleet.eta_seconds is None else round(fleet.eta_seconds, 1),
            "workers": [{"worker": w.worker, "generation": w.generation, "state": w.state, "stale": w.stale,
                         "in_group": w.in_group, "partitions": len(w.partitions),
                         "partitions_done": w.partitions_done, "records": w.records, "raw_bytes": w.raw_bytes,
                         "offsets_left": w.offsets_left,
                         "checkpoint_at": w.checkpoint_at.isoformat() if w.checkpoint_at else None,
                         "owns": [f"{p.topic}/{p.partition}" for p in w.partitions]} for w in fleet.workers],
            "partition_progress": [part(p) for p in fleet.partitions]}
