"""Backup sets: many topics backed up together under one id, and chains of incremental links.

A set is a directory ``<base>/<set_id>/`` holding one ordinary backup per topic (a *member*, in the
one-topic format of docs/backup-format.md) under ``topics/<member_id>/``, and ``set.json``, written
last: the set is complete iff ``set.json`` exists. While it runs, ``set-plan.json`` holds what the
run will write (the members and their ranges), so ``backup --resume SET_ID`` ends where the first run
would have. An incremental link is a set whose partitions start where its parent's ended; links form a
chain back to a full set (its base). See docs/backup-format.md, "Backup sets and chains".
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.storage.layout import backup_dir, is_backup_id
from kafka_sre_tui.engine.storage.manifest import ManifestError, read_checked, write_checked
from kafka_sre_tui.engine.storage.store import Location, open_location

SET_FORMAT = "kafka-sre-tui-backup-set"
SET_FORMAT_VERSION = 3
SET_MANIFEST = "set.json"
SET_PLAN = "set-plan.json"
SET_FINISHING = "finishing.json"  # a workers group's sealer holds it while it seals the set
MEMBERS = "topics"
FULL, INCREMENTAL = "full", "incremental"


@dataclass(frozen=True)
class SetPartition:
    partition: int
    start_offset: int  # where this link starts (the parent's end_offset, or later after a retention gap)
    end_offset: int  # exclusive
    records: int
    first_timestamp: int | None
    last_timestamp: int | None
    lost: tuple[int, int] | None = None  # [from, to): deleted by retention between the parent link and this one


@dataclass(frozen=True)
class SetMember:
    # as a one-topic manifest's "topic": name, partition_count, replication_factor, configs, topic_id
    topic: dict[str, Any]
    member_id: str  # the member backup's id, under topics/
    partitions: tuple[SetPartition, ...]
    chain_start: bool = True  # the topic's chain starts here (first link, new topic, or a recreated topic)
    note: str | None = None  # why a chain starts again here, e.g. "topic recreated (id A -> B)"

    @property
    def name(self) -> str:
        return str(self.topic["name"])


@dataclass(frozen=True)
class SetManifest:
    set_id: str
    created_at: str
    completed_at: str
    source: dict[str, Any]  # cluster_name, bootstrap_servers, cluster_id
    selection: dict[str, Any]  # topics (patterns), exclude (patterns), all_topics, continuous
    compression: dict[str, Any]
    kind: str  # FULL or INCREMENTAL
    # base: the chain's full set id; parent: the previous link's id (None for a base); link: 0 for a base
    chain: dict[str, Any]
    members: tuple[SetMember, ...]
    consumer_groups: dict[str, dict[str, dict[str, int]]]  # group -> topic -> "partition" -> committed offset
    metrics: dict[str, Any]
    format: str = SET_FORMAT
    format_version: int = SET_FORMAT_VERSION
    isolation: str = "read_committed"
    extra: dict[str, Any] = field(default_factory=dict)
    encryption: dict[str, Any] | None = None  # {"algorithm", "key_id"}, as in each member's manifest

    @property
    def records(self) -> int:
        return sum(p.records for m in self.members for p in m.partitions)

    def member(self, topic: str) -> SetMember | None:
        return next((m for m in self.members if m.name == topic), None)


def to_json(manifest: SetManifest) -> dict[str, Any]:
    doc = asdict(manifest)
    if doc["encryption"] is None:
        del doc["encryption"]
    return doc


def write_set_manifest(folder: Location, manifest: SetManifest, create_only: bool = False) -> bool:
    """Write ``set.json`` (the set is complete from here on) and read it back, as for one backup.
    ``create_only``: only if no ``set.json`` exists yet (False: another writer's is there)."""
    return write_checked(folder / SET_MANIFEST, to_json(manifest), manifest.set_id, create_only)


def read_set_manifest(folder: Location | Path) -> tuple[SetManifest, bool]:
    """The set's manifest, and whether its checksum holds (False: edited after it was written)."""
    folder = open_location(folder)
    doc, intact = read_checked(folder / SET_MANIFEST, "a set manifest")
    if doc.get("format") != SET_FORMAT or doc.get("format_version") != SET_FORMAT_VERSION:
        raise ManifestError(f"{folder / SET_MANIFEST}: format {doc.get('format')} v{doc.get('format_version')} "
                            f"is not {SET_FORMAT} v{SET_FORMAT_VERSION}")
    try:
        members = tuple(_member(m) for m in doc.pop("members"))
        return SetManifest(members=members, **doc), intact
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ManifestError(f"{folder / SET_MANIFEST}: malformed ({exc})") from None


def _member(doc: dict[str, Any]) -> SetMember:
    parts = tuple(SetPartition(**{**p, "lost": tuple(p["lost"]) if p.get("lost") else None})
                  for p in doc.pop("partitions"))
    return SetMember(partitions=parts, **doc)


def set_dir(base: Location | Path, set_id: str) -> Location:
    """The set's folder (ids follow the one-topic rule, e.g. 20261129T101500123Z-nightly-a1b2c3)."""
    return backup_dir(base, set_id)


def member_dir(set_folder: Location, member_id: str) -> Location:
    return backup_dir(set_folder / MEMBERS, member_id)


def is_set(folder: Location) -> bool:
    """A set's folder (complete or not), as opposed to a one-topic backup's."""
    return (folder / SET_MANIFEST).exists() or (folder / SET_PLAN).exists()


def complete_sets(base: Location | Path) -> list[SetManifest]:
    """Every complete set in ``base``, oldest first (unreadable ones are left to ``backups list``)."""
    where = open_location(base)
    if not where.is_dir():
        return []
    found = []
    for folder in sorted(where.iterdir(), key=str):
        if is_backup_id(folder.name) and (folder / SET_MANIFEST).exists():
            try:
                found.append(read_set_manifest(folder)[0])
            except ManifestError:
                continue
    return found


def chain_of(base: Location | Path, set_id: str) -> list[SetManifest]:
    """The chain that ends at ``set_id``: its base first, then each link in order. A missing or
    incomplete link is an error that names it: restoring past a hole would silently lose records."""
    links: list[SetManifest] = []
    wanted: str | None = set_id
    while wanted is not None:
        folder = set_dir(base, wanted)
        if not (folder / SET_MANIFEST).exists():
            child = f" (the parent of {links[-1].set_id})" if links else ""
            raise ConfigError(f"backup set {wanted}{child} is missing or incomplete in {open_location(base)}: "
                              "the chain is broken; list the sets with: kafka-sre-tui backups list")
        manifest, _intact = read_set_manifest(folder)
        links.append(manifest)
        wanted = manifest.chain.get("parent")
        if len(links) > 100_000:
            raise ConfigError(f"backup set {set_id}: its chain loops back on itself; the manifests are damaged")
    return links[::-1]


def matches(topic: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(topic, p) for p in patterns)


def select_topics(names: Iterable[str], patterns: Iterable[str] = (), exclude: Iterable[str] = (),
                  all_topics: bool = False) -> list[str]:
    """The topics a set backs up, sorted: those matching a pattern (shell-style: ``*``, ``?``,
    ``[...]``), or every topic with ``all_topics``, less the excluded ones. Internal topics (names
    starting with ``__``) are taken only when named exactly, never through a pattern."""
    patterns, exclude = list(patterns), list(exclude)
    chosen = []
    for name in names:
        internal = name.startswith("__")
        if internal:
            taken = name in patterns
        else:
            taken = all_topics or matches(name, patterns)
        if taken and not matches(name, exclude):
            chosen.append(name)
    return sorted(chosen)
