"""Cluster inspection: brokers, topics with partitions, offsets and non-default configs."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from kafka_sre_tui.engine.kafka.log_dirs import LogDirSizes, describe_log_dirs, partition_sizes
from kafka_sre_tui.engine.kafka.metadata import leader, partition_leaders
from kafka_sre_tui.engine.kafka.offsets import EARLIEST, LATEST, list_offsets
from kafka_sre_tui.engine.kafka.session import UNKNOWN_TOPIC_OR_PARTITION, KafkaSession, topic_not_found
from kafka_sre_tui.engine.models import (
    Broker,
    ClusterOverview,
    PartitionInfo,
    TopicInfo,
    TopicListing,
    TopicPartition,
)

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
    with_sizes: bool = False,
) -> list[TopicInfo]:
    """Topics sorted by name. Offsets come from two batched rounds (earliest, latest); sizes from one
    DescribeLogDirs per broker (unknown sizes stay None: :func:`inspect_topics` says why)."""
    listing = await inspect_topics(session, names=names, include_internal=include_internal,
                                   with_offsets=with_offsets, with_configs=with_configs, with_sizes=with_sizes)
    return list(listing.topics)


async def inspect_topics(
    session: KafkaSession,
    *,
    names: list[str] | None = None,
    include_internal: bool = False,
    with_offsets: bool = True,
    with_configs: bool = False,
    with_sizes: bool = False,
) -> TopicListing:
    """:func:`list_topics`, with the reasons some sizes are unknown. Offsets, configs and sizes are
    asked for concurrently once the metadata is in."""
    meta = await session.metadata_object(names)
    topics = listed_topics(session, meta, names, include_internal)
    leaders = partition_leaders({"topics": topics})
    wanted = {t["topic"]: [p["partition"] for p in t["partitions"]] for t in topics} if names else None
    offsets, configs, sizes = await asyncio.gather(
        asyncio.gather(list_offsets(session, leaders, EARLIEST), list_offsets(session, leaders, LATEST))
        if with_offsets and leaders else _none(),
        topic_configs(session, [t["topic"] for t in topics]) if with_configs and topics else _none(),
        # all topics: one short request per broker (topics=None asks for every replica)
        describe_log_dirs(session, wanted) if with_sizes and topics else _none(),
    )
    earliest, latest = offsets or ({}, {})
    infos = await asyncio.to_thread(topic_infos, topics, earliest, latest, configs or {}, sizes)
    return TopicListing(tuple(infos), sizes.problems if sizes is not None else ())


def listed_topics(session: KafkaSession, meta: dict[str, Any], names: list[str] | None,
                  include_internal: bool) -> list[dict[str, Any]]:
    """The topics of a Metadata answer to list: a topic named and not found is an error; unnamed ones
    with an error (being deleted, not authorized) are left out, as are internal ones unless wanted."""
    topics = []
    for t in meta["topics"]:
        if t["error_code"] and names is None:
            continue
        if t["error_code"] == UNKNOWN_TOPIC_OR_PARTITION:
            raise topic_not_found(t["topic"], session.cluster)
        if t["error_code"]:
            session.raise_for_code(t["error_code"], f"describing topic '{t['topic']}'")
        if t["is_internal"] and not include_internal:
            continue
        topics.append(t)
    return topics


async def _none() -> None:
    return None


def topic_infos(topics: list[dict[str, Any]], earliest: dict[TopicPartition, int],
                latest: dict[TopicPartition, int], configs: dict[str, dict[str, str]],
                sizes: LogDirSizes | None) -> list[TopicInfo]:
    no_sizes: dict[int, dict[int, int]] = {}
    return sorted(
        (TopicInfo(
            name=t["topic"],
            internal=bool(t["is_internal"]),
            partitions=tuple(sorted(
                (_partition(t["topic"], p, earliest, latest,
                            None if sizes is None else sizes.replicas.get(t["topic"], no_sizes))
                 for p in t["partitions"]),
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
               latest: dict[TopicPartition, int], sizes: Mapping[int, Mapping[int, int]] | None) -> PartitionInfo:
    tp = TopicPartition(topic, p["partition"])
    partition_leader = leader(p)
    size, replicas_size = (partition_sizes(sizes.get(p["partition"], {}), partition_leader, p["replicas"])
                           if sizes is not None else (None, None))
    return PartitionInfo(
        partition=p["partition"],
        leader=partition_leader,
        replicas=tuple(p["replicas"]),
        isr=tuple(p["isr"]),
        offline_replicas=tuple(p.get("offline_replicas", ())),
        earliest_offset=earliest.get(tp),
        latest_offset=latest.get(tp),
        size_bytes=size,
        replicas_size_bytes=replicas_size,
    )
