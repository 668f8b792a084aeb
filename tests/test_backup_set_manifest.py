"""The backup-set manifest and chain rules (pure logic: files in a temporary directory)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.storage.backup_set import (
    FULL,
    INCREMENTAL,
    SET_MANIFEST,
    SetManifest,
    SetMember,
    SetPartition,
    chain_of,
    read_set_manifest,
    select_topics,
    set_dir,
    write_set_manifest,
)
from kafka_sre_tui.engine.storage.local_store import LocalDir


def _link(set_id: str, parent: str | None, base: str, link: int) -> SetManifest:
    part = SetPartition(partition=0, start_offset=10 * link, end_offset=10 * link + 10, records=10,
                        first_timestamp=1, last_timestamp=2, lost=(5, 7) if link == 2 else None)
    member = SetMember(topic={"name": "orders", "partition_count": 1, "replication_factor": 1, "configs": {},
                              "topic_id": "abc"}, member_id=f"{set_id[:19]}Z-orders-00000{link}",
                       partitions=(part,), chain_start=link == 0)
    return SetManifest(set_id=set_id, created_at="2026-11-29T10:00:00+00:00", completed_at="2026-11-29T10:00:01+00:00",
                       source={"cluster_name": "local", "bootstrap_servers": ["127.0.0.1:9092"], "cluster_id": "x"},
                       selection={"topics": ["ord*"], "exclude": [], "all_topics": False},
                       compression={"codec": "zstd", "level": 3}, kind=FULL if link == 0 else INCREMENTAL,
                       chain={"base": base, "parent": parent, "link": link}, members=(member,),
                       consumer_groups={"billing": {"orders": {"0": 7}}}, metrics={"messages": 10})


IDS = ["20261129T100000000Z-nightly-aaaaaa", "20261129T110000000Z-nightly-bbbbbb", "20261129T120000000Z-nightly-cccccc"]


def _write_chain(base: Path) -> None:
    for i, set_id in enumerate(IDS):
        folder = set_dir(LocalDir(base), set_id)
        folder.make_dirs()
        write_set_manifest(folder, _link(set_id, IDS[i - 1] if i else None, IDS[0], i))


def test_set_manifest_reads_back_equal_and_notices_an_edit(tmp_path: Path) -> None:
    _write_chain(tmp_path)
    folder = tmp_path / IDS[2]
    manifest, intact = read_set_manifest(folder)
    assert intact and manifest == _link(IDS[2], IDS[1], IDS[0], 2)
    assert manifest.members[0].partitions[0].lost == (5, 7)
    doc = json.loads((folder / SET_MANIFEST).read_text())
    doc["consumer_groups"]["billing"]["orders"]["0"] = 8
    (folder / SET_MANIFEST).write_text(json.dumps(doc))
    assert read_set_manifest(folder)[1] is False


def test_a_chain_is_followed_from_its_base_and_a_missing_link_is_named(tmp_path: Path) -> None:
    _write_chain(tmp_path)
    assert [m.set_id for m in chain_of(tmp_path, IDS[2])] == IDS
    (tmp_path / IDS[1] / SET_MANIFEST).unlink()
    with pytest.raises(ConfigError, match=f"{IDS[1]} .*the parent of {IDS[2]}.*chain is broken"):
        chain_of(tmp_path, IDS[2])


def test_patterns_pick_topics_and_internal_topics_only_by_name() -> None:
    names = ["orders-eu", "orders-us", "orders-internal", "payments", "audit", "__consumer_offsets"]
    assert select_topics(names, ["orders-*", "payments"], ["*-internal"]) == ["orders-eu", "orders-us", "payments"]
    assert select_topics(names, all_topics=True) == ["audit", "orders-eu", "orders-internal", "orders-us", "payments"]
    assert select_topics(names, ["__*"]) == []
    assert select_topics(names, ["__consumer_offsets"]) == ["__consumer_offsets"]
