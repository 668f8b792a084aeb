"""A stand-in for the set backup engine (``backup_set``, not on main yet): one real ``backup_topic`` per
topic under ``<set>/topics/``, then ``set.json`` written with the lead's ``write_set_manifest``. An
increment starts each topic at its parent's end offset (``--from-offset``: the topics in these tests
have one partition, or partitions that end at the same offset). Delete once ``backup_set`` is on main."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.plan import BackupRequest
from kafka_sre_tui.engine.backup.run import backup_topic
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
from kafka_sre_tui.engine.storage.manifest import write_manifest


async def stand_in_set(cluster: ClusterConfig, base: Path, topics: list[str], parent: SetManifest | None = None,
                       at: datetime | None = None, name: str = "set") -> SetManifest:
    started = at or datetime.now(UTC)
    set_id = new_backup_id(name, started)
    folder = set_dir(base, set_id)
    folder.make_dirs()
    members, groups = [], {}
    for topic in topics:
        before = parent.member(topic) if parent else None
        start = None
        if before is not None:
            ends = {p.end_offset for p in before.partitions}
            assert len(ends) == 1, "the stand-in continues topics whose partitions end at one offset"
            start = ends.pop()
        result = await backup_topic(cluster, BackupRequest(topic=topic, base_path=folder / MEMBERS, from_offset=start))
        manifest = dataclasses.replace(result.manifest, extra={**result.manifest.extra, "set_id": set_id})
        write_manifest(result.path, manifest)
        parts = tuple(SetPartition(p.partition, p.start_offset, p.end_offset, p.records, p.first_timestamp,
                                   p.last_timestamp, (start, p.start_offset) if start is not None
                                   and p.start_offset > start else None) for p in manifest.partitions)
        members.append(SetMember(topic=manifest.topic, member_id=result.backup_id, partitions=parts,
                                 chain_start=before is None))
        for group, offsets in manifest.consumer_groups.items():
            groups.setdefault(group, {})[topic] = offsets
    chain = ({"base": parent.chain["base"], "parent": parent.set_id, "link": parent.chain["link"] + 1} if parent
             else {"base": set_id, "parent": None, "link": 0})
    done = SetManifest(set_id=set_id, created_at=started.isoformat(), completed_at=datetime.now(UTC).isoformat(),
                       source={"cluster_name": cluster.name, "bootstrap_servers": list(cluster.bootstrap_servers),
                               "cluster_id": None},
                       selection={"topics": topics, "exclude": [], "all_topics": False, "continuous": False},
                       compression={"codec": "zstd", "level": 3}, kind=INCREMENTAL if parent else FULL, chain=chain,
                       members=tuple(members), consumer_groups=groups, metrics={})
    write_set_manifest(folder, done)
    return done
