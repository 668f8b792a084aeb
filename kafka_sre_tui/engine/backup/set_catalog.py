"""Backup sets in the catalog: one ``backups list`` row per set, and ``backups show SET``: its chain and,
per topic, the offsets and time range the chain covers, the ranges retention deleted between links and
where a topic's chain started again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka_sre_tui.engine.backup.summary import COMPLETE, INCOMPLETE, RUNNING, BackupSummary, created_at, summarize
from kafka_sre_tui.engine.backup.workers_fleet import read_fleet
from kafka_sre_tui.engine.errors import KsreError, NotFound
from kafka_sre_tui.engine.storage.backup_set import (
    MEMBERS,
    SET_MANIFEST,
    SET_PLAN,
    SetManifest,
    chain_of,
    read_set_manifest,
    set_dir,
)
from kafka_sre_tui.engine.storage.layout import is_backup_id, is_running
from kafka_sre_tui.engine.storage.manifest import ManifestError
from kafka_sre_tui.engine.storage.store import Location, open_location, read_json


def summarize_set(folder: Location) -> BackupSummary:
    """A set's row: complete (``set.json`` read), or running/incomplete (its plan and members so far);
    a set a workers group writes is running while one of its workers still checkpoints."""
    size = sum(n for _name, n in folder.files())
    set_id = folder.name
    if (folder / SET_MANIFEST).exists():
        try:
            manifest, _intact = read_set_manifest(folder)
        except ManifestError:
            return BackupSummary(set_id, COMPLETE, "? topics", created_at(set_id), 0, size, "?", folder, kind="?")
        chain = manifest.chain
        return BackupSummary(set_id, COMPLETE, _topics_text(len(manifest.members)), created_at(set_id),
                             manifest.records, size, str(manifest.compression.get("codec", "?")), folder,
                             kind=manifest.kind, link=chain.get("link"), chain_base=chain.get("base") or set_id,
                             topics=len(manifest.members))
    members = _members_so_far(folder)
    try:
        fleet = read_fleet(folder, datetime.now(UTC))
    except KsreError:
        fleet = None  # a plan that cannot be read: the row says incomplete; `backups show` says why
    workers = len(fleet.live_workers) if fleet is not None else 0
    running = is_running(folder) or any(m.status == RUNNING for m in members) or workers > 0
    plan = planned_chain(folder)
    count = plan.get("topics", len(members))
    return BackupSummary(set_id, RUNNING if running else INCOMPLETE, _topics_text(count), created_at(set_id),
                         sum(m.records for m in members), size, next((m.compression for m in members), "?"), folder,
                         kind=plan.get("kind", "?"), link=plan.get("link"), chain_base=plan.get("base"), topics=count,
                         workers=workers)


def planned_chain(folder: Location) -> dict[str, Any]:
    """What an unfinished set's ``set-plan.json`` says of its place in a chain (kind, link, base) and its
    number of topics, as far as it can be read: the plan is the backup run's to write."""
    try:
        plan = read_json(folder / SET_PLAN)
    except (OSError, ValueError, KsreError):
        return {}
    if not isinstance(plan, dict):
        return {}
    chain = plan.get("chain")
    chain = chain if isinstance(chain, dict) else {}
    found: dict[str, Any] = {k: chain[k] for k in ("link", "base") if k in chain}
    if isinstance(plan.get("kind"), str):
        found["kind"] = plan["kind"]
    if isinstance(plan.get("members"), list):
        found["topics"] = len(plan["members"])
    return found


def _members_so_far(folder: Location) -> list[BackupSummary]:
    topics = folder / MEMBERS
    if not topics.is_dir():
        return []
    return [summarize(p) for p in sorted(topics.iterdir(), key=str) if is_backup_id(p.name) and p.is_dir()]


def _topics_text(count: int) -> str:
    return f"{count} topic{'' if count == 1 else 's'}"


@dataclass
class Coverage:
    """What the chain holds of one partition, from the link where its topic's chain (last) started."""

    partition: int
    from_offset: int
    to_offset: int  # exclusive
    records: int
    first_timestamp: int | None
    last_timestamp: int | None
    since_link: int


@dataclass(frozen=True)
class LostRange:
    link: int
    set_id: str
    partition: int
    from_offset: int
    to_offset: int  # exclusive


@dataclass(frozen=True)
class Restart:
    link: int
    set_id: str
    note: str


@dataclass
class TopicCoverage:
    topic: str
    partitions: dict[int, Coverage] = field(default_factory=dict)
    lost: list[LostRange] = field(default_factory=list)
    restarts: list[Restart] = field(default_factory=list)
    last_link: int = 0  # the newest link holding the topic

    @property
    def first_timestamp(self) -> int | None:
        return min((c.first_timestamp for c in self.partitions.values() if c.first_timestamp is not None),
                   default=None)

    @property
    def last_timestamp(self) -> int | None:
        return max((c.last_timestamp for c in self.partitions.values() if c.last_timestamp is not None),
                   default=None)

    @property
    def records(self) -> int:
        return sum(c.records for c in self.partitions.values())


@dataclass(frozen=True)
class SetView:
    manifest: SetManifest
    intact: bool  # set.json's checksum holds
    links: tuple[SetManifest, ...]  # the chain, base first, ending with this set
    topics: tuple[TopicCoverage, ...]
    chain_error: str | None = None  # the chain is broken: what is missing (links then holds this set alone)


def show_set(base: Location | Path, set_id: str) -> SetView:
    """The set, its chain and what the chain covers per topic and partition."""
    folder = set_dir(base, set_id)
    if not folder.is_dir():
        raise NotFound(f"no backup {set_id} in {open_location(base)}; list them with: kafka-sre-tui backups list")
    if not (folder / SET_MANIFEST).exists():
        raise NotFound(f"backup set {set_id} is incomplete (no {SET_MANIFEST} yet): continue it with "
                       f"kafka-sre-tui backup --resume {set_id}, or see its state with: kafka-sre-tui backups list")
    try:
        manifest, intact = read_set_manifest(folder)
    except ManifestError as exc:  # a ValueError: said in one line like every other user-facing error
        raise KsreError(f"{exc}; check the set with: kafka-sre-tui verify {set_id}") from None
    try:
        links, error = tuple(chain_of(base, set_id)), None
    except (KsreError, ManifestError) as exc:
        links, error = (manifest,), str(exc)
    return SetView(manifest, intact, links, chain_coverage(links), error)


def chain_coverage(links: tuple[SetManifest, ...]) -> tuple[TopicCoverage, ...]:
    """Per topic, base first: each link extends its partitions' ranges; a member that starts a chain
    again (a recreated topic) starts its coverage again, and says why."""
    topics: dict[str, TopicCoverage] = {}
    for position, link in enumerate(links):
        number = int(link.chain.get("link", position))
        for member in link.members:
            seen = topics.get(member.name)
            if seen is None or (member.chain_start and position > 0):
                if seen is not None:
                    note = member.note or "the topic's chain starts again here"
                    restarts = [*seen.restarts, Restart(number, link.set_id, note)]
                    seen = TopicCoverage(member.name, restarts=restarts, lost=seen.lost)
                else:
                    seen = TopicCoverage(member.name)
                topics[member.name] = seen
            seen.last_link = number
            for part in member.partitions:
                _extend(seen, part, number, link.set_id)
    return tuple(topics[name] for name in sorted(topics))


def _extend(topic: TopicCoverage, part: Any, link: int, set_id: str) -> None:
    if part.lost:
        topic.lost.append(LostRange(link, set_id, part.partition, part.lost[0], part.lost[1]))
    cov = topic.partitions.get(part.partition)
    if cov is None:
        topic.partitions[part.partition] = Coverage(part.partition, part.start_offset, part.end_offset, part.records,
                                                    part.first_timestamp, part.last_timestamp, link)
        return
    cov.to_offset = max(cov.to_offset, part.end_offset)
    cov.records += part.records
    if part.first_timestamp is not None and (cov.first_timestamp is None or part.first_timestamp < cov.first_timestamp):
        cov.first_timestamp = part.first_timestamp
    if part.last_timestamp is not None and (cov.last_timestamp is None or part.last_timestamp > cov.last_timestamp):
        cov.last_timestamp = part.last_timestamp
