"""A stand-in for the set backup engine (helper "setsbackup") until ``backup_set`` is on main: one
link of a set made of today's one-topic backups, as docs/backup-format.md lays sets out. Each
partition is backed up on its own (``from_offset`` = the parent link's end for it), and the
partitions of a topic are gathered into one member backup. Delete this file once ``backup_set`` is
on main."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, datetime
from pathlib import Path

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.storage.backup_set import (
    FULL,
    INCREMENTAL,
    MEMBERS,
    SetManifest,
    SetMember,
    SetPartition,
    set_dir,
    write_set_manifest,
)
from kafka_sre_tui.engine.storage.layout import new_backup_id
from kafka_sre_tui.engine.storage.local_store import LocalDir
from kafka_sre_tui.engine.storage.manifest import Manifest, PartitionManifest, write_manifest
from tests.backup_helpers import backup


async def backup_link(cluster: ClusterConfig, base: Path, topics: dict[str, int], parent: SetManifest | None,
                      name: str = "set", **options: object) -> SetManifest:
    """Back up ``topics`` (name -> partition count) as one link: a full set without ``parent``, else
    an increment that starts each partition at the parent's end for it."""
    started = datetime.now(UTC)
    set_id = new_backup_id(name, started)
    folder = set_dir(LocalDir(base), set_id)
    scratch = base / ".stand-in"
    members, groups = [], {}
    for topic, count in sorted(topics.items()):
        before = parent.member(topic) if parent else None
        ends = {p.partition: p.end_offset for p in before.partitions} if before else {}
        manifests: list[Manifest] = []
        for p in range(count):
            manifests.append((await backup(cluster, topic, scratch, partitions=(p,), from_offset=ends.get(p),
                                           **options)).manifest)
        # one partition: the backup keeps its id (an encrypted block is bound to it); else a new one
        member_id = manifests[0].backup_id if count == 1 else new_backup_id(topic, started)
        member = Path(str(folder)) / MEMBERS / member_id
        (member / "partitions").mkdir(parents=True)
        for m in manifests:
            shutil.move(str(scratch / m.backup_id / "partitions" / str(m.partitions[0].partition)),
                        member / "partitions" / str(m.partitions[0].partition))
        parts: list[PartitionManifest] = [m.partitions[0] for m in manifests]
        whole = dataclasses.replace(manifests[-1], backup_id=member_id, partitions=tuple(parts),
                                    extra={"set_id": set_id})
        write_manifest(LocalDir(member), whole)
        for group, offsets in whole.consumer_groups.items():
            groups.setdefault(group, {})[topic] = offsets
        members.append(SetMember(topic=whole.topic, member_id=member_id, chain_start=before is None, partitions=tuple(
            SetPartition(pm.partition, pm.start_offset, pm.end_offset, pm.records, pm.first_timestamp,
                         pm.last_timestamp, _lost(ends.get(pm.partition), pm.start_offset)) for pm in parts)))
    chain = ({"base": parent.chain["base"], "parent": parent.set_id, "link": parent.chain["link"] + 1} if parent
             else {"base": set_id, "parent": None, "link": 0})
    manifest = SetManifest(
        set_id=set_id, created_at=started.isoformat(), completed_at=datetime.now(UTC).isoformat(),
        source=manifests[-1].source, selection={"topics": sorted(topics), "exclude": [], "all_topics": False,
                                                "continuous": False},
        compression=manifests[-1].compression, kind=INCREMENTAL if parent else FULL, chain=chain,
        members=tuple(members), consumer_groups=groups, metrics={})
    write_set_manifest(folder, manifest)
    return manifest


def _lost(parent_end: int | None, start: int) -> tuple[int, int] | None:
    return (parent_end, start) if parent_end is not None and start > parent_end else None
