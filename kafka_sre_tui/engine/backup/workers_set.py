"""The one set the workers of a group write together: how they agree on it, and how it is sealed.

Agreeing: ``<base>/.workers/<group>/<run>.json`` names the set of each run of the group (``run`` counts
up). A worker that finds the newest run's set incomplete joins it. Otherwise it plans a new set (its
``set-plan.json`` and members' plans, as a one-process set writes them), then publishes it by
*creating* the next run file (create-only: ``O_EXCL`` semantics on disk, ``If-None-Match: *`` on an
object store); a worker that loses that race removes the set it planned and joins the winner's.

Sealing: when every partition's durable state reached its end offset, the first worker to see it
creates ``finishing.json`` (create-only: one sealer), writes each member's manifest and then
``set.json`` (create-only), exactly as a one-process set does. If the sealer dies in between, a worker
takes the sealing over once its hold is stale (:func:`seal_if_done`), or ``backup --resume SET_ID`` seals it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kafka_sre_tui.engine.backup.partition import PartitionState
from kafka_sre_tui.engine.backup.plan import BackupPlan
from kafka_sre_tui.engine.backup.run import PLAN_FILE, finish_backup
from kafka_sre_tui.engine.backup.set_parent import find_parent
from kafka_sre_tui.engine.backup.set_plan import SetPlan, SetRequest, make_set_plan
from kafka_sre_tui.engine.backup.set_run import build_set_manifest, drop_plans
from kafka_sre_tui.engine.backup.workers_fence import read_state
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.storage.backup_set import (
    SET_FINISHING,
    SET_MANIFEST,
    SET_PLAN,
    SetManifest,
    member_dir,
    read_set_manifest,
    write_set_manifest,
)
from kafka_sre_tui.engine.storage.files import TMP_SUFFIX
from kafka_sre_tui.engine.storage.layout import new_backup_id
from kafka_sre_tui.engine.storage.manifest import MANIFEST, Manifest, read_manifest
from kafka_sre_tui.engine.storage.store import Location, read_json, write_json
from kafka_sre_tui.engine.storage.writer import SEGMENT_SUFFIX

RUNS_DIR = ".workers"
FINISHING = SET_FINISHING

Now = Callable[[], datetime]


@dataclass(frozen=True)
class JoinedSet:
    set_id: str
    folder: Location
    plan: SetPlan
    members: list[BackupPlan]


def _encode(doc: object) -> bytes:
    return json.dumps(doc, indent=1, sort_keys=True).encode() + b"\n"


def runs_dir(base: Location, group: str) -> Location:
    return base / RUNS_DIR / group


def newest_run(base: Location, group: str) -> tuple[int, str] | None:
    """The group's newest run number and its set id."""
    folder = runs_dir(base, group)
    runs = sorted(int(p.name[:-5]) for p in folder.iterdir() if p.name.endswith(".json") and p.name[:-5].isdigit()) \
        if folder.is_dir() else []
    if not runs:
        return None
    return runs[-1], str(read_json(folder / f"{runs[-1]:08d}.json")["set_id"])


async def join_set(session: KafkaSession, base: Location, request: SetRequest, group: str, started: datetime,
                   now: Now) -> JoinedSet | SetManifest:
    """The set this worker writes with its group, or the manifest of the group's set that was
    completed after this worker started (nothing is left to do)."""
    for _attempt in range(5):
        newest = newest_run(base, group)
        if newest is not None:
            folder = base / newest[1]
            if not (folder / SET_MANIFEST).exists():
                return _joined(folder)
            done = read_set_manifest(folder)[0]
            if datetime.fromisoformat(done.completed_at) >= started:
                return done
        set_id = new_backup_id(request.name, now())
        parent, _notes = find_parent(base, request)
        plan, members = await make_set_plan(session, request, set_id, now(), parent)
        folder = base / set_id
        for member in members:
            where = member_dir(folder, member.backup_id)
            where.make_dirs()
            write_json(where / PLAN_FILE, member.to_json())
        write_json(folder / SET_PLAN, plan.to_json())
        run = (newest[0] if newest else 0) + 1
        runs_dir(base, group).make_dirs()
        if (runs_dir(base, group) / f"{run:08d}.json").write_if(_encode({"set_id": set_id}), None) is not None:
            return JoinedSet(set_id, folder, plan, members)
        folder.remove_tree()  # another worker published its set first: join that one
    raise KsreError(f"workers group '{group}': could not agree on a backup set in {base} (5 races lost); retry")


def _joined(folder: Location) -> JoinedSet:
    plan = SetPlan.from_json(read_json(folder / SET_PLAN))
    members = [BackupPlan.from_json(read_json(member_dir(folder, m.member_id) / PLAN_FILE)) for m in plan.members]
    return JoinedSet(plan.set_id, folder, plan, members)


def all_done(joined: JoinedSet) -> bool:
    """Every partition of every member has reached its end offset durably."""
    for member in joined.members:
        where = member_dir(joined.folder, member.backup_id)
        if (where / MANIFEST).exists():
            continue
        for part in member.partitions:
            if not read_state(where, part)[0].done:
                return False
    return True


FINISHING_STALE_SECONDS = 120.0  # a sealer renews its hold after each member's manifest, far sooner


def seal_if_done(joined: JoinedSet, worker: str, now: Now,
                 stale_seconds: float = FINISHING_STALE_SECONDS) -> SetManifest | None:
    """Seal the set when every partition is done and no other worker seals it; its manifest, else None.

    The sealer holds ``finishing.json`` and renews it after each member's manifest. One that has not
    renewed it for ``stale_seconds`` is taken for dead: the next worker to look takes the sealing over
    (a compare-and-swap of ``finishing.json``, so one worker does), and a sealer whose hold was taken
    stops. Every step repeats safely: a member's manifest written twice holds the same records, and
    ``set.json`` is created once."""
    folder = joined.folder
    if (folder / SET_MANIFEST).exists() or not all_done(joined):
        return None
    hold = _Sealing.take(folder / FINISHING, worker, now, stale_seconds)
    if hold is None:
        return None  # another worker seals it
    started = datetime.fromisoformat(joined.plan.created_at)
    seconds = max(0.0, (now() - started).total_seconds())
    manifests: list[Manifest] = []
    for member in joined.members:
        where = member_dir(folder, member.backup_id)
        if (where / MANIFEST).exists():  # sealed by this worker's dead predecessor
            manifests.append(read_manifest(where)[0])
            continue
        states = [read_state(where, p)[0] for p in member.partitions]
        _drop_unlisted(where, states)
        manifests.append(finish_backup(where, member, states, seconds, 0, now, {"set_id": joined.set_id},
                                       keep_plan=True).manifest)
        if not hold.renew():
            return None  # this worker was slow enough to be taken for dead: the taker seals the set
    manifest = build_set_manifest(joined.plan, manifests, 0, seconds, now)
    if not write_set_manifest(folder, manifest, create_only=True):
        return read_set_manifest(folder)[0]  # a worker that took the sealing over wrote it first
    drop_plans(folder, joined.plan)
    (folder / FINISHING).unlink(missing_ok=True)
    return manifest


class _Sealing:
    """``finishing.json`` as this worker holds it: ``{"worker": member id, "renewed_at": ISO time}``."""

    def __init__(self, path: Location, worker: str, now: Now, version: str) -> None:
        self.path, self.worker, self.now, self.version = path, worker, now, version

    @classmethod
    def take(cls, path: Location, worker: str, now: Now, stale_seconds: float) -> _Sealing | None:
        """Create ``finishing.json``, or take over one not renewed for ``stale_seconds``; None: another holds it."""
        doc = _encode({"worker": worker, "renewed_at": now().isoformat()})
        created = path.write_if(doc, None)
        if created is not None:
            return cls(path, worker, now, created)
        held = path.read_versioned()
        if held is None or not _stale(held[0], now, stale_seconds):
            return None
        taken = path.write_if(doc, held[1])
        return cls(path, worker, now, taken) if taken is not None else None

    def renew(self) -> bool:
        """Still the sealer: renew the hold; False once another worker took it over."""
        written = self.path.write_if(_encode({"worker": self.worker, "renewed_at": self.now().isoformat()}),
                                     self.version)
        if written is None:
            return False
        self.version = written
        return True


def _stale(held: bytes, now: Now, stale_seconds: float) -> bool:
    """A hold not renewed for ``stale_seconds``; one without a time (or unreadable) was left by a dead sealer."""
    try:
        renewed = datetime.fromisoformat(json.loads(held)["renewed_at"])
    except (ValueError, KeyError, TypeError):
        return True
    return (now() - renewed).total_seconds() > stale_seconds


def _drop_unlisted(where: Location, states: list[PartitionState]) -> None:
    """Segments a fenced worker committed after it lost its partition, and files killed writers left."""
    keep = {s.file for state in states for s in state.segments}
    for name, _size in list(where.files()):
        if name.startswith("partitions/") and (name.endswith(TMP_SUFFIX) or name.endswith(SEGMENT_SUFFIX)) \
                and name not in keep:
            (where / name).unlink(missing_ok=True)

