"""Cluster inspection against the real broker: the numbers an SRE reads must be exact."""

from __future__ import annotations

import asyncio
import json

from aiokafka import AIOKafkaConsumer

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.inspect.cluster import describe_cluster, list_topics
from kafka_sre_tui.engine.inspect.groups import describe_group, list_groups
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.localkafka import LocalKafka
from tests.kafka_helpers import consume_and_commit, create_topic, produce, wait_for

PRODUCED = {0: 40, 1: 25, 2: 10, 3: 0}
CONSUMED = {0: 40, 1: 7, 2: 0}  # partition 3: never committed


async def test_topics_groups_and_lag_report_exact_counts(kafka: LocalKafka, cluster: ClusterConfig,
                                                          unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 4, {"retention.ms": "3600000"})
    await produce(bs, unique, PRODUCED)
    await consume_and_commit(bs, f"{unique}-g", unique, CONSUMED)

    async with KafkaSession(cluster) as s:
        [topic] = await list_topics(s, names=[unique], with_configs=True)
        group = await describe_group(s, f"{unique}-g")
        listed = {g.group_id: g for g in await list_groups(s)}

    assert topic.messages == sum(PRODUCED.values())
    assert [p.latest_offset for p in topic.partitions] == [PRODUCED[p] for p in range(4)]
    assert [p.earliest_offset for p in topic.partitions] == [0, 0, 0, 0]
    assert topic.configs == {"retention.ms": "3600000"}  # set on the topic; defaults are left out

    by_partition = {p.partition: p for p in group.partitions}
    assert set(by_partition) == {0, 1, 2, 3}
    for p, consumed in CONSUMED.items():
        assert by_partition[p].committed == consumed
        assert by_partition[p].lag == PRODUCED[p] - consumed
    assert by_partition[2].lag == 10 and by_partition[2].committed == 0  # committed at 0 is a commit
    assert by_partition[3].committed is None and by_partition[3].lag is None  # "no commit", not 0
    assert group.total_lag == sum(PRODUCED[p] - c for p, c in CONSUMED.items())
    assert group.partitions_without_commit == 1
    assert group.state == "Empty" and group.members == ()
    assert listed[f"{unique}-g"].total_lag == group.total_lag


async def test_live_member_without_commit_shows_no_commit(kafka: LocalKafka, cluster: ClusterConfig,
                                                          unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 5, 1: 5})
    consumer = AIOKafkaConsumer(unique, bootstrap_servers=bs, group_id=f"{unique}-live", enable_auto_commit=False)
    await consumer.start()
    try:
        await wait_for(lambda: bool(consumer.assignment()), "the consumer's assignment")
        async with KafkaSession(cluster) as s:
            group = await describe_group(s, f"{unique}-live")
    finally:
        await consumer.stop()
    assert group.state == "Stable"
    [member] = group.members
    assert {(tp.topic, tp.partition) for tp in member.assignment} == {(unique, 0), (unique, 1)}
    assert all(p.committed is None and p.lag is None for p in group.partitions)
    assert {p.member_id for p in group.partitions} == {member.member_id}
    assert group.total_lag == 0 and group.partitions_without_commit == 2


async def test_internal_topics_hidden_unless_asked(cluster: ClusterConfig, kafka: LocalKafka, unique: str) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 1)
    await consume_and_commit(kafka.bootstrap_servers, f"{unique}-g", unique, {0: 0})  # creates __consumer_offsets
    async with KafkaSession(cluster) as s:
        visible = {t.name for t in await list_topics(s)}
        everything = {t.name for t in await list_topics(s, include_internal=True)}
    assert unique in visible and "__consumer_offsets" not in visible
    assert "__consumer_offsets" in everything


async def test_cluster_overview_names_the_real_broker(kafka: LocalKafka, cluster: ClusterConfig) -> None:
    async with KafkaSession(cluster) as s:
        overview = await describe_cluster(s)
    assert overview.cluster_id == kafka.cluster_id
    [broker] = overview.brokers
    assert (broker.node_id, broker.host, broker.port) == (1, "127.0.0.1", kafka.ports["BROKER"])
    assert overview.controller_id == 1


async def test_two_clusters_run_side_by_side(kafka: LocalKafka, kafka2: LocalKafka, unique: str) -> None:
    await create_topic(kafka2.bootstrap_servers, unique, 2)
    ids, names = [], []
    for broker in (kafka, kafka2):
        async with KafkaSession(ClusterConfig(name="x", bootstrap_servers=(broker.bootstrap_servers,))) as s:
            ids.append((await describe_cluster(s)).cluster_id)
            names.append({t.name for t in await list_topics(s)})
    assert ids[0] != ids[1]
    assert unique in names[1] and unique not in names[0]


def test_cli_lag_json_and_table(kafka: LocalKafka, unique: str, capsys) -> None:  # type: ignore[no-untyped-def]
    bs = kafka.bootstrap_servers

    async def setup() -> None:
        await create_topic(bs, unique, 2)
        await produce(bs, unique, {0: 12, 1: 3})
        await consume_and_commit(bs, f"{unique}-g", unique, {0: 4})

    asyncio.run(setup())
    assert main(["lag", f"{unique}-g", "--cluster", bs, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["total_lag"] == 8
    rows = [(p["partition"], p["committed_offset"], p["lag"]) for p in doc["partitions"]]
    assert rows == [(0, 4, 8), (1, None, None)]

    assert main(["lag", f"{unique}-g", "--cluster", bs]) == 0
    table = capsys.readouterr().out
    row1 = next(line for line in table.splitlines() if line.split()[:2] == [unique, "1"])
    assert "no commit" in row1

    assert main(["topics", "--cluster", bs, "--json"]) == 0
    topics = {t["name"]: t for t in json.loads(capsys.readouterr().out)}
    assert topics[unique]["messages"] == 15 and topics[unique]["partition_count"] == 2

    assert main(["groups", "--cluster", bs, "--json"]) == 0
    groups = {g["group_id"]: g for g in json.loads(capsys.readouterr().out)}
    assert groups[f"{unique}-g"]["total_lag"] == 8
    assert groups[f"{unique}-g"]["partitions_without_commit"] == 1


def test_cli_unknown_group_exits_1_with_one_line(kafka: LocalKafka, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["lag", "no-such-group", "--cluster", kafka.bootstrap_servers]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no-such-group" in err and "does not exist" in err


async def test_listings_asked_together_share_one_metadata_answer_and_the_next_is_fresh(
        kafka: LocalKafka, cluster: ClusterConfig, unique: str) -> None:
    await create_topic(kafka.bootstrap_servers, f"{unique}-a", 1)
    async with KafkaSession(cluster) as s:
        first, second = await asyncio.gather(s.metadata_object(None), s.metadata_object(None))
        await create_topic(kafka.bootstrap_servers, f"{unique}-b", 1)
        later = await s.metadata_object(None)
    assert first is second  # one request for both
    names = {t["topic"] for t in later["topics"]}
    assert f"{unique}-a" in {t["topic"] for t in first["topics"]} and f"{unique}-b" in names  # not a cache
