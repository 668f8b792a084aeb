"""Consumer offsets survive a restore exactly: a group that had consumed part of the topic reads, on the
restored topic, exactly the records it had not consumed. Groups with members, or that would move
backwards, are left alone."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.kafka.offset_map import OffsetMap
from kafka_sre_tui.localkafka import LocalKafka
from tests.backup_helpers import backup
from tests.kafka_helpers import Record, consume_and_commit, create_topic, produce, read_all, wait_for
from tests.restore_helpers import cluster_of, content, restore


async def _read_as_group(bs: str, group: str, topic: str, partitions: list[int]) -> dict[int, list[Record]]:
    """What a consumer of ``group`` reads from its committed offsets to the end ("latest" if none:
    a missing commit reads nothing, so it cannot pass for a right one)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bs, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="latest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        result: dict[int, list[Record]] = {p: [] for p in partitions}
        positions: dict[TopicPartition, int] = {}

        async def done() -> bool:
            for tp in tps:
                positions[tp] = await consumer.position(tp)
            return all(positions[tp] >= ends[tp] for tp in tps)

        while not await done():
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                result[tp.partition].extend(
                    (r.offset, r.timestamp, r.timestamp_type, r.key, r.value, tuple(r.headers)) for r in records)
        return result
    finally:
        await consumer.stop()


async def test_group_reads_exactly_what_it_had_not_consumed(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                            tmp_path: Path) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 100, 1: 100})
    await consume_and_commit(bs, group, unique, {0: 30, 1: 70})
    done = await backup(cluster, unique, tmp_path)
    assert done.manifest.consumer_groups[group] == {"0": 30, "1": 70}
    # from offset 10: target offsets are source offsets - 10, so the translation is not the identity
    result = await restore(cluster, tmp_path, done.backup_id, target_topic=f"{unique}-r", create_topic=True,
                           from_offset=10, restore_consumer_offsets=(group,))
    [commit] = result.groups
    assert commit.committed and commit.offsets == {0: 20, 1: 60} and commit.source_offsets == {0: 30, 1: 70}
    source = await read_all(bs, unique)
    read = await _read_as_group(bs, group, f"{unique}-r", [0, 1])
    assert content(read[0]) == content(source[0][30:]) and content(read[1]) == content(source[1][70:])


async def test_groups_never_move_back_or_under_members(kafka: LocalKafka, cluster: ClusterConfig, unique: str,
                                                       tmp_path: Path) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 1)
    await produce(bs, unique, {0: 50})
    await consume_and_commit(bs, group, unique, {0: 10})
    done = await backup(cluster, unique, tmp_path)
    target = f"{unique}-r"
    await restore(cluster, tmp_path, done.backup_id, target_topic=target, create_topic=True)
    await consume_and_commit(bs, group, target, {0: 40})  # the group already moved on, on the target

    again = await restore(cluster, tmp_path, done.backup_id, target_topic=target, resume=True,
                          restore_consumer_offsets=())
    [commit] = again.groups
    assert not commit.committed and "partition 0 from 40 to 10" in commit.reason and "--force" in commit.reason
    assert again.metrics is None  # complete already: nothing written again
    assert len((await read_all(bs, target))[0]) == 50

    member = AIOKafkaConsumer(target, bootstrap_servers=bs, group_id=group, auto_offset_reset="earliest")
    await member.start()
    try:
        await wait_for(lambda: bool(member.assignment()), "the member's assignment")
        held = await restore(cluster, tmp_path, done.backup_id, target_topic=target, resume=True,
                             restore_consumer_offsets=(group,), force=True)
        assert not held.groups[0].committed and "active member" in held.groups[0].reason
    finally:
        await member.stop()
    forced = await restore(cluster, tmp_path, done.backup_id, target_topic=target, resume=True,
                           restore_consumer_offsets=(group,), force=True)
    assert forced.groups[0].committed and forced.groups[0].offsets == {0: 10}


def test_translation_of_positions() -> None:
    offsets = OffsetMap()
    offsets.add_offsets([5, 6, 7, 10, 11], 100)  # a gap at 8-9 (compacted away)
    assert offsets.runs == [(5, 100, 3), (10, 103, 2)]
    end = 105
    assert [offsets.translate_position(x, end) for x in (0, 5, 7, 8, 9, 10, 11, 12, 99)] == \
        [100, 100, 102, 103, 103, 103, 104, 105, 105]
    assert offsets.target_of(8) is None and offsets.target_of(11) == 104
    assert OffsetMap().translate_position(3, 7) == 7


async def test_a_new_clusters_first_group_waits_for_its_coordinator(kafka: LocalKafka, cluster: ClusterConfig,
                                                                    unique: str, tmp_path: Path) -> None:
    """On a brand-new cluster the first group commit creates __consumer_offsets, whose coordinator
    answers GroupCoordinatorNotAvailable for a moment: the restore waits for it instead of failing."""
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 1)
    await produce(bs, unique, {0: 20})
    await consume_and_commit(bs, group, unique, {0: 5})
    done = await backup(cluster, unique, tmp_path)
    fresh = await asyncio.to_thread(LocalKafka().start)
    try:
        result = await restore(cluster_of(fresh), tmp_path, done.backup_id, create_topic=True,
                               restore_consumer_offsets=(group,))
        assert result.groups[0].committed and result.groups[0].offsets == {0: 5}
        read = await _read_as_group(fresh.bootstrap_servers, group, unique, [0])
        assert content(read[0]) == content((await read_all(bs, unique))[0][5:])
    finally:
        await asyncio.to_thread(fresh.stop)
