"""The one set the workers of a group write together: how they agree on it, and how it is sealed.

Agreeing: ``<base>/.workers/<group>/<run>.json`` names the set of each run of the group (``run`` counts
up). A worker that finds the newest run's set incomplete joins it. Otherwise it plans a new set (its
``set-plan.json`` and members' plans, as a one-process set writes them), then publishes it by
*creating* the next run file (create-only: ``O_EXCL`` semantics on disk, ``If-None-Match: *`` on an
object store); a worker that loses that race removes the set it planned and joins the winner's. A
continuous group's run is one link of its chain: the next link continues the set of the previous run
(:mod:`.workers_chain`), and the run files older than the newest two are removed.

Sealing: when every partition's durable state reached its end offset, the first worker to see it
creates ``finishing.json`` (create-only: one sealer), writes each member's manifest and then
``set.json`` (create-only), exactly as a one-process set does. If the sealer dies in between, another
worker takes ``finishing.json`` over once the dead sealer has left the group (or ``backup --resume
SET_ID`` seals the set).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from kafka_sre_tui.engine.backup.partition import PartitionState
from kafka_sre_tui.engine.backup.plan import BackupPlan, PartitionPlan
from kafka_sre_tui.engine.backup.run import PLAN_FILE, finish_backup
from kafka_sre_tui.engine.backup.set_parent import find_parent, named_set, newest_of_selection, same_selection
from kafka_sre_tui.engine.backup.set_plan import SetPlan, SetRequest, describe_selection, make_set_plan
from kafka_sre_tui.engine.backup.set_run import build_set_manifest
from kafka_sre_tui.engine.backup.workers_fence import read_state
from kafka_sre_tui.engine.errors import ConfigError, KsreError
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
from kafka_sre_tui.engine.storage.layout import is_backup_id, new_backup_id
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
    run: int  # the group's run number that names this set


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
        done = None
        if newest is not None:
            folder = base / newest[1]
            joined = open_run(folder, newest[0])
            if joined is not None:
                return joined
            done = read_set_manifest(folder)[0]
            if not request.continuous and datetime.fromisoformat(done.completed_at) >= started:
                return done
        set_id = new_backup_id(request.name, now())
        parent = _next_link_parent(base, request, done) if request.continuous else find_parent(base, request)[0]
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
            if request.continuous:
                _drop_lost_links(base, request, parent)
                if run > 2:  # a link a minute: keep the directory small, the newest two stay
                    (runs_dir(base, group) / f"{run - 2:08d}.json").unlink(missing_ok=True)
            return JoinedSet(set_id, folder, plan, members, run)
        with contextlib.suppress(FileNotFoundError):  # removed already if this worker was paused a whole link
            folder.remove_tree()  # another worker published its set first: join that one
    raise KsreError(f"workers group '{group}': could not agree on a backup set in {base} (5 races lost); retry")


def _next_link_parent(base: Location, request: SetRequest, newest: SetManifest | None) -> SetManifest | None:
    """A continuous group's next link continues the group's newest link (named by its run file, not
    found by time: the hosts' clocks may differ); the first link continues --incremental-from, or the
    newest continuous link of the selection (a one-process continuous backup's chain)."""
    if newest is not None and same_selection(newest.selection, request.selection, with_continuous=True):
        return newest
    for folder in base.iterdir():  # the group's first link: not beside a one-process chain being written
        if is_backup_id(folder.name) and not (folder / SET_MANIFEST).exists() and folder.is_locked():
            try:
                selection = read_json(folder / SET_PLAN).get("selection", {})
            except (OSError, ValueError, KsreError):
                continue
            if same_selection(selection, request.selection, with_continuous=True):
                raise ConfigError(f"a continuous backup of {describe_selection(request)} is running in one process "
                                  f"(writing link {folder.name}); stop it before starting a workers group")
    if request.incremental_from:
        return named_set(base, request.incremental_from)
    return newest_of_selection(base, request.selection, with_continuous=True)


def _drop_lost_links(base: Location, request: SetRequest, parent: SetManifest | None) -> None:
    """Remove the links planned for the previous run that were never published (a planner killed
    between planning and removing its plan after losing the race): they continue the grandparent
    link, have no ``set.json`` and no run file names them. Only sets of this backup's name, no older
    than the grandparent, are looked at."""
    grandparent = parent.chain.get("parent") if parent is not None else None
    if grandparent is None:
        return
    for folder in base.iterdir():
        name = folder.name
        if not is_backup_id(name) or name[20:-7] != request.name or name[:19] < grandparent[:19] \
                or (folder / SET_MANIFEST).exists():
            continue
        try:
            plan = read_json(folder / SET_PLAN)
        except (OSError, ValueError, KsreError):
            continue  # no plan yet, or not readable: not this function's to judge
        if plan.get("chain", {}).get("parent") == grandparent and \
                same_selection(plan.get("selection", {}), request.selection, with_continuous=True):
            folder.remove_tree()


def open_run(folder: Location, run: int) -> JoinedSet | None:
    """The set (or link) of one run of the group, as its plan files describe it; None once it is sealed
    (``set-plan.json`` goes when ``set.json`` is written)."""
    if (folder / SET_MANIFEST).exists():
        return None
    try:
        plan = SetPlan.from_json(read_json(folder / SET_PLAN))
    except FileNotFoundError:
        if (folder / SET_MANIFEST).exists():
            return None
        raise
    return JoinedSet(plan.set_id, folder, plan, [_member_plan(member_dir(folder, m.member_id)) for m in plan.members],
                     run)


def _member_plan(where: Location) -> BackupPlan:
    """A member's plan; a member the sealer already finished has its manifest instead (its plan is gone)."""
    try:
        return BackupPlan.from_json(read_json(where / PLAN_FILE))
    except FileNotFoundError:
        if not (where / MANIFEST).exists():
            raise
    done = read_manifest(where)[0]
    return BackupPlan(backup_id=done.backup_id, created_at=done.created_at, source=done.source, topic=done.topic,
                      selection=done.selection, compression=done.compression,
                      partitions=tuple(PartitionPlan(p.partition, p.start_offset, p.end_offset, p.log_start_offset)
                                       for p in done.partitions),
                      consumer_groups=done.consumer_groups, encryption=done.encryption)


def link_of_group(base: Location, set_id: str) -> str | None:
    """The workers group whose newest run is this set (an unfinished link such a group may still write)."""
    folder = base / RUNS_DIR
    for group in sorted(p.name for p in folder.iterdir()) if folder.is_dir() else ():
        newest = newest_run(base, group)
        if newest is not None and newest[1] == set_id:
            return group
    return None


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


def seal_if_done(joined: JoinedSet, worker: str, now: Now,
                 in_group: Callable[[str], bool] = lambda _: True) -> SetManifest | None:
    """Seal the set when every partition is done and no other worker seals it; its manifest, else None.
    A sealer that is no longer ``in_group`` (killed while sealing) is taken over."""
    folder = joined.folder
    if (folder / SET_MANIFEST).exists() or not all_done(joined):
        return None
    if not _take_sealing(folder / FINISHING, worker, in_group):
        return None  # another worker seals it
    started = datetime.fromisoformat(joined.plan.created_at)
    seconds = max(0.0, (now() - started).total_seconds())
    manifests: list[Manifest] = []
    for member in joined.members:
        where = member_dir(folder, member.backup_id)
        if (where / MANIFEST).exists():
            manifests.append(read_manifest(where)[0])
            continue
        states = [read_state(where, p)[0] for p in member.partitions]
        _drop_unlisted(where, states)
        manifests.append(finish_backup(where, member, states, seconds, 0, now,
                                       {"set_id": joined.set_id}).manifest)
    manifest = build_set_manifest(joined.plan, manifests, 0, seconds, now)
    if not write_set_manifest(folder, manifest, create_only=True):
        return read_set_manifest(folder)[0]  # a sealer taken over while only paused: the other one won
    (folder / SET_PLAN).unlink(missing_ok=True)
    (folder / FINISHING).unlink(missing_ok=True)
    return manifest


def _take_sealing(path: Location, worker: str, in_group: Callable[[str], bool]) -> bool:
    """Become the set's one sealer: create ``finishing.json``, or replace the one of a sealer that left
    the group (compare-and-swap: one worker takes it over). Sealing again is safe: a member whose
    manifest exists is read, not written again."""
    mine = _encode({"worker": worker})
    if path.write_if(mine, None) is not None:
        return True
    got = path.read_versioned()
    if got is None or in_group(str(json.loads(got[0]).get("worker"))):
        return False
    return path.write_if(mine, got[1]) is not None


def _drop_unlisted(where: Location, states: list[PartitionState]) -> None:
    """Segments a fenced worker committed after it lost its partition, and files killed writers left."""
    keep = {s.file for state in states for s in state.segments}
    for name, _size in list(where.files()):
        if name.startswith("partitions/") and (name.endswith(TMP_SUFFIX) or name.endswith(SEGMENT_SUFFIX)) \
                and name not in keep:
            (where / name).unlink(missing_ok=True)

