"""Topic sizes from DescribeLogDirs, against real brokers: the numbers, and what happens when a broker
will not say (no permission, no version in common)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaClient, AIOKafkaProducer
from aiokafka.protocol.admin import CreateAclsRequest

from kafka_sre_tui.cli.main import main
from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.inspect.cluster import inspect_topics, list_topics
from kafka_sre_tui.engine.kafka.log_dirs import describe_log_dirs
from kafka_sre_tui.engine.kafka.protocol import DescribeLogDirs
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicInfo, TopicPartition
from kafka_sre_tui.localkafka import Listener, LocalKafka, ScramUser
from tests.kafka_helpers import create_topic, produce

VALUE = b"v" * 1000
RECORDS = {0: 200, 1: 50, 2: 0}  # partition -> records of VALUE


async def _produce_values(bootstrap: str, topic: str, per_partition: dict[int, int]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        for partition, count in per_partition.items():
            for _ in range(count):
                await producer.send(topic, VALUE, partition=partition)
        await producer.flush()
    finally:
        await producer.stop()


async def _sized(session: KafkaSession, topic: str) -> TopicInfo:
    """The topic with sizes, once the broker has a log for every partition (a topic just created
    may not have them all yet)."""
    for _ in range(100):
        [info] = await list_topics(session, names=[topic], with_sizes=True)
        if info.size_bytes is not None:
            return info
        await asyncio.sleep(0.1)
    raise AssertionError(f"the broker never reported the size of every partition of {topic}")


async def test_sizes_hold_the_payload_and_an_empty_topic_is_zero(kafka: LocalKafka, cluster: ClusterConfig,
                                                                  unique: str) -> None:
    bs = kafka.bootstrap_servers
    await create_topic(bs, unique, 3)
    await create_topic(bs, f"{unique}-empty", 2)
    await _produce_values(bs, unique, RECORDS)

    async with KafkaSession(cluster) as s:
        topic = await _sized(s, unique)
        empty = await _sized(s, f"{unique}-empty")
        everything = await inspect_topics(s, with_sizes=True)  # null topics: every replica, one request each

    sizes = [p.size_bytes for p in topic.partitions]
    for p, records in RECORDS.items():
        payload = records * len(VALUE)
        size = sizes[p]
        assert size is not None
        # the records plus Kafka's batch and record headers, nothing counted twice
        assert payload <= size <= payload + records * 100 + 4096, (p, size, payload)
    assert sizes[2] == 0
    assert topic.size_bytes == sum(s for s in sizes if s is not None)
    assert topic.replicas_size_bytes == topic.size_bytes  # one replica each
    assert empty.size_bytes == 0 and [p.size_bytes for p in empty.partitions] == [0, 0]

    listed = {t.name: t for t in everything.topics}
    assert everything.size_problems == ()
    assert listed[unique].size_bytes == topic.size_bytes


async def test_an_older_protocol_version_gives_the_same_sizes(kafka: LocalKafka, cluster: ClusterConfig,
                                                             unique: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """v1 is what a broker before Kafka 3.3 is asked with; its answer has no top-level error code."""
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await _produce_values(kafka.bootstrap_servers, unique, {0: 30, 1: 3})
    async with KafkaSession(cluster) as s:
        newest = await describe_log_dirs(s, {unique: [0, 1]})
        monkeypatch.setattr(DescribeLogDirs, "_CLASSES", DescribeLogDirs._CLASSES[:2])  # v0, v1
        v1 = await describe_log_dirs(s, {unique: [0, 1]})
    assert v1 == newest
    assert v1.replica_size(TopicPartition(unique, 0), 1) > 30 * len(VALUE)


async def test_no_version_in_common_leaves_sizes_unknown_not_failing(kafka: LocalKafka, cluster: ClusterConfig,
                                                                    unique: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    await create_topic(kafka.bootstrap_servers, unique, 2)
    await produce(kafka.bootstrap_servers, unique, {0: 4, 1: 1})
    monkeypatch.setattr(DescribeLogDirs, "_CLASSES", DescribeLogDirs._CLASSES[:1])  # v0: Kafka 4 serves 1-4
    async with KafkaSession(cluster) as s:
        listing = await inspect_topics(s, names=[unique], with_sizes=True)
    [topic] = listing.topics
    assert topic.messages == 5  # the rest of the listing is intact
    assert topic.size_bytes is None and all(p.size_bytes is None for p in topic.partitions)
    assert listing.size_problems == ("broker 1: serves no DescribeLogDirs version this tool speaks (v0, v1, v4)",)


def test_cli_topics_shows_size_and_json_carries_size_bytes(kafka: LocalKafka, unique: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    bs = kafka.bootstrap_servers

    async def setup() -> None:
        await create_topic(bs, unique, 2)
        await _produce_values(bs, unique, {0: 3000, 1: 10})  # ~3 MB: shown in MiB

    asyncio.run(setup())
    assert main(["topics", "--cluster", bs, "--json"]) == 0
    doc = {t["name"]: t for t in json.loads(capsys.readouterr().out)}[unique]
    parts = {p["partition"]: p for p in doc["partitions"]}
    assert parts[0]["size_bytes"] > 3000 * len(VALUE) and parts[1]["size_bytes"] > 10 * len(VALUE)
    assert doc["size_bytes"] == parts[0]["size_bytes"] + parts[1]["size_bytes"] == doc["replicas_size_bytes"]

    assert main(["topics", "--cluster", bs]) == 0
    row = next(line.split() for line in capsys.readouterr().out.splitlines() if line.split()[:1] == [unique])
    assert row[5] == "MiB" and 2.8 < float(row[4]) < 3.2  # Topic Partitions RF Messages Size URP Offline

    assert main(["topics", unique, "--cluster", bs]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "MiB" in lines[0]  # the title: the topic's size
    partition1 = next(line.split() for line in lines if line.split()[:2] == ["1", "1"])
    assert partition1[7:9] == [f"{parts[1]['size_bytes'] / 1024:.1f}", "KiB"]


# -- a broker that refuses: no Describe permission on the Cluster ------------------------------

@pytest.fixture(scope="module")
def secure_kafka() -> Iterator[LocalKafka]:
    """ACLs enforced; ANONYMOUS (the PLAINTEXT listener) is a super user, ``alice`` gets only what a test grants."""
    kafka = LocalKafka(
        listeners=[Listener("SASL", "SASL_PLAINTEXT")],
        scram_users=[ScramUser("alice", "alice-secret")],
        broker_properties={
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": "User:ANONYMOUS",
            "allow.everyone.if.no.acl.found": "false",
        })
    kafka.start()
    yield kafka
    kafka.stop()


async def _allow(bootstrap: str, principal: str, topic: str, operation: int) -> None:
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:  # resource TOPIC (2), pattern LITERAL (3), permission ALLOW (3)
        response = await client.send(client.get_random_node(),
                                     CreateAclsRequest(2, topic, 3, principal, "*", operation, 3))
        assert [code for code, _msg in response.creation_responses] == [0]
    finally:
        await client.close()


async def test_without_cluster_permission_sizes_are_unknown_and_say_why(secure_kafka: LocalKafka,
                                                                        unique: str) -> None:
    bs = secure_kafka.bootstrap_servers
    await create_topic(bs, unique, 2)
    await produce(bs, unique, {0: 6, 1: 2})
    await _allow(bs, "User:alice", unique, 8)  # DESCRIBE on the topic: metadata and offsets, no more
    alice = ClusterConfig(name="alice", bootstrap_servers=(secure_kafka.bootstrap_for("SASL"),),
                          security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-256",
                          username="alice", password="alice-secret")
    async with KafkaSession(alice) as s:
        listing = await inspect_topics(s, with_sizes=True)
    [topic] = listing.topics
    assert topic.name == unique and topic.messages == 8  # everything else is still there
    assert topic.size_bytes is None and topic.replicas_size_bytes is None
    assert [p.size_bytes for p in topic.partitions] == [None, None]
    assert listing.size_problems == (
        "broker 1: not authorized to describe log dirs (needs Describe on the Cluster resource)",)
