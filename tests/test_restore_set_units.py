"""A set restore's pure rules: which links a point in time needs, which members each topic comes from,
target names, and group offsets translated over several links (no broker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.errors import ConfigError
from kafka_sre_tui.engine.restore.events import BackupDamaged, PartitionOutcome
from kafka_sre_tui.engine.restore.offsets import translate
from kafka_sre_tui.engine.restore.set_links import links_used, plan_topics
from kafka_sre_tui.engine.restore.set_outcomes import merged_partitions
from kafka_sre_tui.engine.restore.set_request import SetRestoreRequest, parse_topic_map, validate_set_request
from kafka_sre_tui.engine.restore.set_restore import restore_set
from kafka_sre_tui.engine.storage.backup_set import (
    FULL,
    INCREMENTAL,
    SET_MANIFEST,
    SetManifest,
    SetMember,
    SetPartition,
    set_dir,
    write_set_manifest,
)
from kafka_sre_tui.engine.storage.local_store import LocalDir

IDS = ["20261129T100000000Z-set-aaaaaa", "20261129T110000000Z-set-bbbbbb", "20261129T120000000Z-set-cccccc"]
HOUR_MS = 3_600_000
T10 = 1_795_946_400_000  # 2026-11-29T10:00:00Z


def _member(topic: str, link: int, chain_start: bool, note: str | None = None) -> SetMember:
    part = SetPartition(0, 10 * link, 10 * link + 10, 10, None, None)
    return SetMember({"name": topic, "partition_count": 1, "configs": {}}, f"{IDS[link][:19]}Z-{topic}-00000{link}",
                     (part,), chain_start, note)


def _link(i: int, members: list[SetMember]) -> SetManifest:
    return SetManifest(set_id=IDS[i], created_at=f"2026-11-29T{10 + i}:00:00+00:00", completed_at="",
                       source={}, selection={}, compression={}, kind=FULL if i == 0 else INCREMENTAL,
                       chain={"base": IDS[0], "parent": IDS[i - 1] if i else None, "link": i},
                       members=tuple(members), consumer_groups={}, metrics={})


def _chain() -> list[SetManifest]:
    return [_link(0, [_member("orders", 0, True), _member("audit", 0, True)]),
            _link(1, [_member("orders", 1, False), _member("audit", 1, True, "topic recreated (id A -> B)"),
                      _member("payments", 1, True)]),
            _link(2, [_member("orders", 2, False), _member("audit", 2, False), _member("payments", 2, False)])]


def test_a_point_in_time_needs_the_links_up_to_the_first_started_after_it() -> None:
    chain = _chain()
    assert links_used(chain, None) == chain
    assert links_used(chain, T10 + HOUR_MS // 2) == chain[:2]  # link 1 (11:00) holds what was appended up to 10:30
    assert links_used(chain, T10 - 1) == chain[:1]
    assert links_used(chain, T10 + 5 * HOUR_MS) == chain


def test_each_topic_comes_from_the_link_where_its_chain_starts() -> None:
    chain = _chain()
    plans = {p.source: p for p in plan_topics(chain, SetRestoreRequest(backup_base=".", set_id=IDS[2]))}
    assert [m.set_id for m in plans["orders"].members] == IDS and plans["orders"].restarted is None
    assert [m.set_id for m in plans["audit"].members] == IDS[1:]
    assert "link 1" in (plans["audit"].restarted or "") and "recreated" in (plans["audit"].restarted or "")
    assert "new since the base" in (plans["payments"].restarted or "")
    only = plan_topics(chain[:1], SetRestoreRequest(backup_base=".", set_id=IDS[0], topics=("ord*",)))
    assert [p.source for p in only] == ["orders"]


def test_target_names_and_their_mistakes() -> None:
    chain = _chain()
    prefixed = plan_topics(chain, SetRestoreRequest(backup_base=".", set_id=IDS[2], topic_prefix="dr."))
    assert sorted(p.target for p in prefixed) == ["dr.audit", "dr.orders", "dr.payments"]
    mapped = plan_topics(chain, SetRestoreRequest(backup_base=".", set_id=IDS[2], topic_map={"orders": "o2"}))
    assert sorted(p.target for p in mapped) == ["audit", "o2", "payments"]
    with pytest.raises(ConfigError, match="two topics would be restored into audit"):
        plan_topics(chain, SetRestoreRequest(backup_base=".", set_id=IDS[2], topic_map={"orders": "audit"}))
    with pytest.raises(ConfigError, match=r"no topic of backup set .* matches nothing-\*; it holds: audit, orders"):
        plan_topics(chain, SetRestoreRequest(backup_base=".", set_id=IDS[2], topics=("nothing-*",)))
    with pytest.raises(ConfigError, match="either --topic-map or --topic-prefix"):
        validate_set_request(SetRestoreRequest(backup_base=".", set_id=IDS[2], topic_map={}, topic_prefix="x"))
    assert parse_topic_map("a:b, c:d") == {"a": "b", "c": "d"}
    with pytest.raises(ConfigError, match="SOURCE:TARGET"):
        parse_topic_map("a-b")


def test_a_topic_missing_from_a_link_of_its_chain_is_named() -> None:
    chain = _chain()
    broken = [chain[0], _link(1, [_member("audit", 1, True)]), chain[2]]
    with pytest.raises(ConfigError, match=f"backup set {IDS[1]} has no member for topic 'orders'.*chain is broken"):
        plan_topics(broken, SetRestoreRequest(backup_base=".", set_id=IDS[2]))


def test_group_offsets_translate_over_every_link_and_past_the_cut_to_its_end() -> None:
    # link 0 wrote source 0-9 at target 0-9; link 1 starts after a lost hole [10, 14) and was cut at 18
    outcomes = [PartitionOutcome(0, 0, 0, 10, 0, 10, 0, ((0, 0, 10),)),
                PartitionOutcome(0, 0, 14, 18, 10, 4, 0, ((14, 10, 4),))]
    merged, progress = merged_partitions(outcomes)
    assert (merged[0].target_start, merged[0].target_end, merged[0].records) == (0, 14, 14)
    assert merged[0].offset_map == ((0, 0, 10), (14, 10, 4))
    for committed, resumes_at in ((7, 7), (12, 10), (15, 11), (30, 14)):  # in link 0, in the hole, link 1, past
        assert translate({"0": committed}, progress)[0] == {0: resumes_at}


async def test_an_edited_set_manifest_is_refused_before_the_cluster_is_asked(tmp_path: Path) -> None:
    for i, link in enumerate(_chain()):
        folder = set_dir(LocalDir(tmp_path), IDS[i])
        folder.make_dirs()
        write_set_manifest(folder, link)
    doc = json.loads((tmp_path / IDS[1] / SET_MANIFEST).read_text())
    doc["consumer_groups"] = {"billing": {"orders": {"0": 99}}}
    (tmp_path / IDS[1] / SET_MANIFEST).write_text(json.dumps(doc))
    nowhere = ClusterConfig(name="nowhere", bootstrap_servers=("127.0.0.1:1",))
    with pytest.raises(BackupDamaged, match=f"backup set {IDS[1]}: its set.json was changed"):
        await restore_set(nowhere, SetRestoreRequest(backup_base=tmp_path, set_id=IDS[2], dry_run=True))
