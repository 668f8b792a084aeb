"""A group consumed half of the source; after the migration and translation, a consumer of the same
group on the target reads exactly the remaining records (the target's offsets differ from the
source's). Then the cutover steps, one by one, each saying what it checked."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as KafkaTP

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.engine.migrate import CutoverSettings, catch_up, commit, drain, switch
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import Record, consume_and_commit, create_topic, produce, read_all
from tests.migrate_helpers import cluster_of, request, run


async def _consume_rest(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, list[bytes | None]]:
    """Everything the group reads from its committed offsets to the end of each partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [KafkaTP(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        got: dict[int, list[bytes | None]] = {p: [] for p in range(partitions)}
        for _ in range(200):
            positions = [await consumer.position(tp) for tp in tps]
            if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                return got
            for tp, records in (await consumer.getmany(timeout_ms=200)).items():
                got[tp.partition].extend(r.value for r in records)
        raise AssertionError("could not read to the end")
    finally:
        await consumer.stop()


def _values(records: list[Record]) -> list[bytes | None]:
    return [r[4] for r in records]


async def test_group_resumes_on_the_target_exactly_where_it_stopped(kafka: LocalKafka, kafka2: LocalKafka,
                                                                    unique: str, tmp_path: Path) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 100, 1: 60})
    await consume_and_commit(bs, group, unique, {0: 50, 1: 30})
    await create_topic(kafka2.bootstrap_servers, unique, 2)
    await produce(kafka2.bootstrap_servers, unique, {0: 7})  # target offsets shifted: translation matters
    source, target = cluster_of(kafka, "a"), cluster_of(kafka2, "b")
    result = await run(source, target, tmp_path, unique, groups=(group,), force=True)
    [commit_] = result.groups
    assert commit_.committed, commit_.reason
    assert commit_.offsets == {0: 57, 1: 30}
    rest = await _consume_rest(kafka2.bootstrap_servers, group, unique, 2)
    expected = await read_all(bs, unique)
    assert rest == {0: _values(expected[0])[50:], 1: _values(expected[1])[30:]}


async def test_cutover_steps(kafka: LocalKafka, kafka2: LocalKafka, unique: str, tmp_path: Path) -> None:
    bs, group = kafka.bootstrap_servers, f"{unique}-g"
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 40, 1: 40})
    source, target = cluster_of(kafka, "a"), cluster_of(kafka2, "b")
    req = request(tmp_path, unique, create_topic=True, groups=(group,))
    await run(source, target, tmp_path, unique, create_topic=True)  # the bulk copy, before the cutover
    await produce(bs, unique, {0: 10})  # still arriving before producers stop
    await consume_and_commit(bs, group, unique, {0: 45, 1: 40})  # consumers not done yet
    early = await commit(source, target, req)
    assert not early.ok and "lag" in early.checked[0]  # refuses: 10 records not copied yet
    [ahead] = (await run(source, target, tmp_path, unique, groups=(group,))).groups  # a plain rerun: no new copy
    assert not ahead.committed and "ahead of the copy" in ahead.reason  # 45 consumed, 40 copied: would reread
    caught = await catch_up(source, target, req)
    assert caught.ok and "replication lag is 0" in caught.checked[-1]
    waiting = asyncio.create_task(drain(source, (group,), CutoverSettings(30, 0.2, 2)))
    await consume_and_commit(bs, group, unique, {0: 50, 1: 40})  # the source consumers finish
    drained = await waiting
    assert drained.ok and "drained" in drained.checked[0]
    committed = await commit(source, target, req)
    assert committed.ok, committed.checked
    assert "committed" in committed.checked[-1] and "0:50, 1:40" in committed.checked[-1]
    switched = await switch(source, target, req)
    assert switched.ok and "holds the translated offsets" in switched.checked[-1]
    assert kafka2.bootstrap_servers in switched.next_action
    assert await _consume_rest(kafka2.bootstrap_servers, group, unique, 2) == {0: [], 1: []}
    cli = ["migrate", "cutover", "--source-cluster", bs, "--source-topic", unique, "--target-cluster",
           kafka2.bootstrap_servers, "--groups", group, "--state-dir", str(tmp_path), "--interval", "0.2"]
    assert await asyncio.to_thread(main, cli) == 0  # the guided flow, again: every step passes
