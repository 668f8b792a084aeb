"""Incremental links against the real broker: each partition starts exactly where the parent ended;
retention deleting past that end is recorded as lost; new and recreated topics start their chain."""

from __future__ import annotations

from pathlib import Path

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.storage.backup_set import FULL, INCREMENTAL, chain_of
from kafka_sre_tui.engine.storage.local_store import LocalDir
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import consume_and_commit, create_topic, produce, read_all
from tests.set_helpers import back_up_set, chain_records, delete_records, member_records, recreate_topic


def _ends(manifest: object, topic: str) -> dict[int, int]:
    member = manifest.member(topic)  # type: ignore[attr-defined]
    return {p.partition: p.end_offset for p in member.partitions}


def _starts(manifest: object, topic: str) -> dict[int, int]:
    member = manifest.member(topic)  # type: ignore[attr-defined]
    return {p.partition: p.start_offset for p in member.partitions}


async def test_two_increments_continue_the_chain(cluster: ClusterConfig, kafka: LocalKafka, unique: str,
                                                 tmp_path: Path) -> None:
    bs = kafka.bootstrap_servers
    a, b, c = f"{unique}-a", f"{unique}-b", f"{unique}-c"
    await create_topic(bs, a, 2)
    await create_topic(bs, b, 1)
    await produce(bs, a, {0: 50, 1: 30})
    await produce(bs, b, {0: 20})
    full = await back_up_set(cluster, tmp_path, f"{unique}-*", name="dr")
    assert full.manifest.kind == FULL

    await produce(bs, a, {0: 25, 1: 5})  # traffic between the links
    await consume_and_commit(bs, f"{unique}-g", a, {0: 60})
    first = await back_up_set(cluster, tmp_path, f"{unique}-*", name="dr", incremental=True)
    m1 = first.manifest
    assert m1.kind == INCREMENTAL and m1.chain == {"base": full.set_id, "parent": full.set_id, "link": 1}
    assert _starts(m1, a) == _ends(full.manifest, a) == {0: 50, 1: 30}
    assert _ends(m1, a) == {0: 75, 1: 35} and _starts(m1, b) == _ends(m1, b) == {0: 20}
    stored = member_records(tmp_path, m1, a)
    assert [r[0] for r in stored[0]] == list(range(50, 75)) and [r[0] for r in stored[1]] == list(range(30, 35))
    assert not any(member.chain_start for member in m1.members)
    assert m1.consumer_groups[f"{unique}-g"] == {a: {"0": 60}}

    await produce(bs, a, {0: 10, 1: 10})
    await delete_records(bs, a, 0, 80)  # retention takes 75-79, never read by any link
    await recreate_topic(bs, b, 1)
    await produce(bs, b, {0: 4})
    await create_topic(bs, c, 1)
    await produce(bs, c, {0: 3})
    second = await back_up_set(cluster, tmp_path, f"{unique}-*", name="dr", incremental_from=first.set_id)
    m2 = second.manifest
    assert m2.chain == {"base": full.set_id, "parent": first.set_id, "link": 2}
    part0 = m2.member(a).partitions[0]  # type: ignore[union-attr]
    assert (part0.start_offset, part0.end_offset, part0.lost) == (80, 85, (75, 80))
    assert m2.member(a).partitions[1].start_offset == 35 and not m2.member(a).chain_start  # type: ignore[union-attr]
    member_b = m2.member(b)
    assert member_b is not None and member_b.chain_start and member_b.note is not None
    assert member_b.note.startswith("topic recreated (id ") and member_b.partitions[0].start_offset == 0
    assert m2.member(c).chain_start and m2.member(c).note == "new topic since the parent link"  # type: ignore[union-attr]
    assert any("offsets 75-79" in n and "lost" in n for n in second.notes)
    assert any(n.startswith(f"topic '{b}': topic recreated") for n in second.notes)

    links = chain_of(LocalDir(tmp_path), second.set_id)
    assert [link.set_id for link in links] == [full.set_id, first.set_id, second.set_id]
    now_a = await read_all(bs, a)
    assert chain_records(tmp_path, links, a)[1] == now_a[1]  # the chain holds partition 1 exactly once
    kept = chain_records(tmp_path, links, a)[0]
    assert [r[0] for r in kept] == list(range(75)) + list(range(80, 85)) and kept[-5:] == now_a[0]
    assert member_records(tmp_path, m2, b) == await read_all(bs, b)


async def test_incremental_without_a_parent_makes_a_full_set_and_says_so(cluster: ClusterConfig, kafka: LocalKafka,
                                                                         unique: str, tmp_path: Path) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    result = await back_up_set(cluster, tmp_path, unique, incremental=True)
    assert result.manifest.kind == FULL and result.manifest.chain["parent"] is None
    assert any("made a full set" in note for note in result.notes)
    other = await back_up_set(cluster, tmp_path, unique, f"{unique}-more", incremental=True)
    assert other.manifest.kind == FULL  # another selection never continues this chain
