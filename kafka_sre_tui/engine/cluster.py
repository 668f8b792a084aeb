"""Cluster inspection: brokers, topics with partitions, offsets and non-default configs."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from kafka_sre_tui.engine.connection import KafkaSession
from kafka_sre_tui.engine.metadata import leader, partition_leaders
from kafka_sre_tui.engine.models import Broker, ClusterOverview, PartitionInfo, TopicInfo, TopicPartition
from kafka_sre_tui.engine.offsets import EARLIEST, LATEST, list_offsets

_DYNAMIC_TOPIC_CONFIG = 1  # DescribeConfigs config_source: set on the topic itself


async def describe_cluster(session: KafkaSession) -> ClusterOverview:
    meta = (await session.metadata([])).to_object()
    brokers = tuple(sorted(
        (Broker(b["node_id"], b["host"], b["port"], b.get("rack")) for b in meta["brokers"]),
        key=lambda b: b.node_id))
    controller = meta.get("controller_id")
    return ClusterOverview(cluster_id=meta.get("cluster_id"),
                           controller_id=controller if controller is not None and controller >= 0 else None,
                           brokers=brokers)


async def list_topics(
    session: KafkaSession,
    *,
    names: list[str] | None = None,
    include_internal: bool = False,
    with_offsets: bool = True,
    with_configs: bool = False,
) -> list[TopicInfo]:
    """Topics sorted by name. Offsets come from two batched rounds (earliest, latest)."""
    meta = await session.metadata_object(names)
    topics = []
    for t in meta["topics"]:
        if t["error_code"] and names is None:
            continue
        if t["error_code"]:
            session.raise_for_code(t["error_code"], f"describing topic '{t['topic']}'")
        if t["is_internal"] and not include_internal:
            continue
        topics.append(t)
    leaders = partition_leaders({"topics": topics})
    earliest: dict[TopicPartition, int] = {}
    latest: dict[TopicPartition, int] = {}
    configs: dict[str, dict[str, str]] = {}
    jobs: list[Any] = []
    if with_offsets and leaders:
        jobs += [list_offsets(session, leaders, EARLIEST), list_offsets(session, leaders, LATEST)]
    if with_configs and topics:
        jobs.append(topic_configs(session, [t["topic"] for t in topics]))
    results = await asyncio.gather(*jobs)
    if with_offsets and leaders:
        earliest, latest = results[0], results[1]
    if with_configs and topics:
        configs = results[-1]
    return await asyncio.to_thread(_topic_infos, topics, earliest, latest, configs)


def _topic_infos(topics: list[dict[str, Any]], earliest: dict[TopicPartition, int],
                 latest: dict[TopicPartition, int], configs: dict[str, dict[str, str]]) -> list[TopicInfo]:
    return sorted(
        (TopicInfo(
            name=t["topic"],
            internal=bool(t["is_internal"]),
            partitions=tuple(sorted(
                (_partition(t["topic"], p, earliest, latest) for p in t["partitions"]),
                key=lambda p: p.partition)),
            configs=configs.get(t["topic"], {}),
        ) for t in topics),
        key=lambda t: t.name)


async def topic_configs(session: KafkaSession, names: list[str]) -> dict[str, dict[str, str]]:
    """Settings made on each topic itself (not broker or Kafka defaults), in one request."""
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    responses = await session.guard(session.admin.describe_configs(resources), "reading topic configs")
    result: dict[str, dict[str, str]] = {}
    for response in responses:
        for error_code, _msg, _rtype, name, entries, *_ in response.resources:
            session.raise_for_code(error_code, f"reading configs of topic '{name}'")
            result[name] = {entry[0]: entry[1] for entry in entries
                            if entry[3] == _DYNAMIC_TOPIC_CONFIG and not entry[4]}
    return result


def _partition(topic: str, p: dict[str, Any], earliest: dict[TopicPartition, int],
               latest: dict[TopicPartition, int]) -> PartitionInfo:
    tp = TopicPartition(topic, p["partition"])
    return PartitionInfo(
        partition=p["partition"],
        leader=leader(p),
        replicas=tuple(p["replicas"]),
        isr=tuple(p["isr"]),
        offline_replicas=tuple(p.get("offline_replicas", ())),
        earliest_offset=earliest.get(tp),
        latest_offset=latest.get(tp),
    )
