"""Backup sets in the catalog, against the real broker: listed as one row each, shown with their chain,
verified link by link with continuity, and pruned only as whole chains."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import TopicPartition as TP
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.backup.catalog import list_backups, plan_prune, prune
from kafka_sre_tui.engine.backup.set_catalog import show_set
from kafka_sre_tui.engine.backup.set_verify import verify_set
from kafka_sre_tui.engine.storage.backup_set import (
    MEMBERS,
    SET_MANIFEST,
    SET_PLAN,
    SetManifest,
    read_set_manifest,
    write_set_manifest,
)
from kafka_sre_tui.engine.storage.layout import new_backup_id, running
from kafka_sre_tui.engine.storage.local_store import LocalDir
from kafka_sre_tui.engine.storage.manifest import read_manifest
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup
from tests.kafka_helpers import create_topic, produce
from tests.set_catalog_helpers import set_link


async def _cli(args: list[str]) -> int:
    """The CLI as a user runs it: in a thread, since it runs its own event loop."""
    return await asyncio.to_thread(main, args)


async def _chain(kafka: LocalKafka, cluster: ClusterConfig, unique: str, base: Path) -> list[SetManifest]:
    """Three links over two topics (one with two partitions), traffic between them."""
    bs = kafka.bootstrap_servers
    topics = [f"{unique}-a", f"{unique}-b"]
    await create_topic(bs, topics[0], 1)
    await create_topic(bs, topics[1], 2)
    links: list[SetManifest] = []
    for round_ in range(3):
        await produce(bs, topics[0], {0: 30 + round_})
        await produce(bs, topics[1], {0: 20, 1: 20})
        links.append(await set_link(cluster, base, topics, links[-1] if links else None))
    return links


def _segment(base: Path, link: SetManifest, topic: str, partition: int) -> tuple[Path, str]:
    member = link.member(topic)
    assert member is not None
    folder = base / link.set_id / MEMBERS / member.member_id
    manifest, _ = read_manifest(folder)
    [part] = [p for p in manifest.partitions if p.partition == partition]
    return folder / part.segments[0].file, part.segments[0].file


async def test_a_chain_lists_shows_and_verifies_and_damage_is_named(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    links = await _chain(kafka, cluster, unique, tmp_path)
    single = await backup(cluster, f"{unique}-a", tmp_path)
    listed = list_backups(tmp_path)
    assert [b.backup_id for b in listed] == [*(m.set_id for m in links), single.backup_id]  # no member listed
    assert [(b.kind, b.link, b.chain_base, b.topics, b.status) for b in listed[:3]] == [
        ("full", 0, links[0].set_id, 2, "complete"), ("incremental", 1, links[0].set_id, 2, "complete"),
        ("incremental", 2, links[0].set_id, 2, "complete")]
    assert [b.records for b in listed[:3]] == [70, 71, 72]  # each link holds only what came since its parent

    view = show_set(tmp_path, links[2].set_id)
    assert [m.set_id for m in view.links] == [m.set_id for m in links] and view.chain_error is None
    a, b = view.topics
    assert (a.topic, a.partitions[0].from_offset, a.partitions[0].to_offset, a.records) == (f"{unique}-a", 0, 93, 93)
    assert [(c.from_offset, c.to_offset) for c in b.partitions.values()] == [(0, 60), (0, 60)]
    assert await _cli(["backups", "show", links[2].set_id, "--backup-dir", str(tmp_path)]) == 0
    shown = capsys.readouterr().out
    assert f"link 2 of chain {links[0].set_id}" in shown and "0-92" in shown

    result = await verify_set(tmp_path, links[2].set_id)
    assert result.intact and result.links == tuple(m.set_id for m in links) and result.records == 213
    assert result.members == 6

    path, file = _segment(tmp_path, links[1], f"{unique}-b", 1)  # the middle link's member, partition 1
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    damaged = await verify_set(tmp_path, links[2].set_id)
    assert not damaged.intact
    assert {(d.link, d.set_id, d.topic, d.partition, d.file) for d in damaged.damage} == {
        (1, links[1].set_id, f"{unique}-b", 1, file)}
    assert (await verify_set(tmp_path, links[2].set_id, chain=False)).intact  # this link alone is fine
    assert await _cli(["verify", links[2].set_id, "--backup-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"link 1 ({links[1].set_id}), topic {unique}-b, partition 1, file {file}" in out and "DAMAGED" in out

    (tmp_path / links[1].set_id / SET_MANIFEST).unlink()  # the middle link is gone: the chain is broken there
    broken = await verify_set(tmp_path, links[2].set_id)
    [problem] = [d.describe() for d in broken.damage]
    assert problem.startswith(f"link 1 ({links[1].set_id}): the chain is broken here")
    assert await _cli(["verify", links[2].set_id, "--backup-dir", str(tmp_path), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["intact"] is False and doc["damage"] == [problem] and doc["links"] == [links[2].set_id]
    assert list_backups(tmp_path)[1].status == "incomplete"  # no set.json: listed as an unfinished set


async def test_retention_holes_are_shown_and_continuity_is_checked(kafka: LocalKafka, cluster: ClusterConfig,
                                                                   unique: str, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    await produce(bs, unique, {0: 10})
    first = await set_link(cluster, tmp_path, [unique])
    await produce(bs, unique, {0: 10})
    admin = AIOKafkaAdminClient(bootstrap_servers=bs)
    await admin.start()
    try:  # retention deletes past the first link's end before the second link runs
        await admin.delete_records({TP(unique, 0): RecordsToDelete(before_offset=14)})
    finally:
        await admin.close()
    second = await set_link(cluster, tmp_path, [unique], first)
    assert second.members[0].partitions[0].lost == (10, 14)
    assert (await verify_set(tmp_path, second.set_id)).intact  # the hole is recorded, so it is explained
    [topic] = show_set(tmp_path, second.set_id).topics
    assert [(x.link, x.partition, x.from_offset, x.to_offset) for x in topic.lost] == [(1, 0, 10, 14)]
    assert await _cli(["backups", "show", second.set_id, "--backup-dir", str(tmp_path)]) == 0
    assert f"lost: {unique} partition 0 offsets 10-13 (4 records) deleted by retention before link 1" in \
        capsys.readouterr().out
    assert await _cli(["backups", "show", second.set_id, "--backup-dir", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["set_id"] for c in doc["chain"]] == [first.set_id, second.set_id] and doc["manifest_intact"]
    assert doc["topics"][0]["lost"] == [{"link": 1, "set_id": second.set_id, "partition": 0, "from_offset": 10,
                                         "to_offset": 14}]

    folder = LocalDir(tmp_path / second.set_id)  # a hole nobody recorded: a link that lies about its start
    manifest, _ = read_set_manifest(folder)
    member = manifest.members[0]
    hidden = dataclasses.replace(member.partitions[0], lost=None)
    lying = dataclasses.replace(member, partitions=(hidden,))
    write_set_manifest(folder, dataclasses.replace(manifest, members=(lying,)))
    problems = [d.describe() for d in (await verify_set(tmp_path, second.set_id)).damage]
    assert problems == [f"link 1 ({second.set_id}), topic {unique}, partition 0: starts at offset 14, its parent "
                        "ended at 10: offsets 10-13 are in neither link and no lost range says why"]


async def test_prune_removes_whole_chains_only_and_says_why(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                            tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 1)
    now = datetime.now(UTC)
    old: list[SetManifest] = []
    for days in (30, 20, 10):  # every link past a 7-day retention: the chain goes
        await produce(bs, unique, {0: 5})
        old.append(await set_link(cluster, tmp_path, [unique], old[-1] if old else None, now - timedelta(days),
                                      name="old"))
    kept: list[SetManifest] = []
    for days in (25, 15, 1):  # the newest link is a day old: the whole chain stays, old base included
        await produce(bs, unique, {0: 5})
        kept.append(await set_link(cluster, tmp_path, [unique], kept[-1] if kept else None, now - timedelta(days),
                                       name="kept"))
    decisions = plan_prune(tmp_path, retention_days=7, max_size_gb=1000, now=now)
    by_base = {d.backup.backup_id: d for d in decisions}
    assert set(by_base) == {old[0].set_id, kept[0].set_id}
    gone, stays = by_base[old[0].set_id], by_base[kept[0].set_id]
    assert gone.delete and [b.backup_id for b in gone.links] == [m.set_id for m in old]
    assert "older than 7 days: the whole chain goes (3 links)" in gone.reason
    assert not stays.delete and "within 7 days: the whole chain stays (3 links); 2 link(s) past retention" in \
        stays.reason

    assert await _cli(["backups", "prune", "--dry-run", "--backup-dir", str(tmp_path)]) == 0  # retention_days 30
    out = capsys.readouterr().out
    assert f"kept chain {old[0].set_id} (3 links" in out and "is within 30 days" in out
    assert f"  link 2: {old[2].set_id} (complete)" in out and "0 backups would delete" in out
    writing = tmp_path / new_backup_id("old", now)  # a fourth link of the old chain being written now
    with running(tmp_path, writing, writing.name, 5):
        (writing / SET_PLAN).write_text(json.dumps({"kind": "incremental", "members": [],
                                                     "chain": {"base": old[0].set_id, "link": 3}}))
        [held] = [d for d in plan_prune(tmp_path, retention_days=7, max_size_gb=1000, now=now) if
                  d.backup.backup_id == old[0].set_id]
        assert not held.delete and held.reason == f"{writing.name} is being written: the whole chain stays (4 links)"
    shutil.rmtree(writing)

    deleted = prune(tmp_path, retention_days=7, max_size_gb=1000, now=now, dry_run=False)
    assert deleted == decisions
    assert [b.backup_id for b in list_backups(tmp_path)] == [m.set_id for m in kept]
    assert (await verify_set(tmp_path, kept[-1].set_id)).intact  # the kept chain is whole

    by_size = plan_prune(tmp_path, retention_days=7, max_size_gb=1e-9, now=now)  # over the size cap: whole
    [whole] = by_size
    assert whole.delete and len(whole.links) == 3 and "total size over" in whole.reason
