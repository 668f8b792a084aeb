"""The topic a restore or a migration writes into, as it is now: does it exist, its partitions and
offsets, the configs that apply to it (its own or, for a topic to be created, the broker's defaults),
and creating it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiokafka import errors as kerr
from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from kafka_sre_tui.engine.errors import KafkaRequestFailed
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offsets import EARLIEST, LATEST, list_offsets
from kafka_sre_tui.engine.kafka.session import UNKNOWN_TOPIC_OR_PARTITION, KafkaSession
from kafka_sre_tui.engine.models import TopicPartition

TOPIC_ALREADY_EXISTS = 36
# topic config <- the broker setting that is its default
BROKER_DEFAULTS = {
    "max.message.bytes": "message.max.bytes",
    "cleanup.policy": "log.cleanup.policy",
    "message.timestamp.type": "log.message.timestamp.type",
    "message.timestamp.after.max.ms": "log.message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms": "log.message.timestamp.before.max.ms",
}
NOT_COPIED = ("leader.replication.throttled.replicas", "follower.replication.throttled.replicas")


@dataclass(frozen=True)
class TargetTopic:
    cluster_id: str | None
    brokers: int
    exists: bool
    partitions: int  # 0 when it does not exist
    leaders: dict[TopicPartition, int | None]
    earliest: dict[int, int]
    latest: dict[int, int]
    configs: dict[str, str]  # effective: the topic's own, or the broker defaults when it does not exist


async def inspect_target(session: KafkaSession, topic: str) -> TargetTopic:
    meta = (await session.metadata([topic])).to_object()
    brokers = len(meta["brokers"])
    [entry] = meta["topics"]
    if entry["error_code"] == UNKNOWN_TOPIC_OR_PARTITION:
        return TargetTopic(meta.get("cluster_id"), brokers, False, 0, {}, {}, {}, await broker_defaults(session))
    session.raise_for_code(entry["error_code"], f"describing topic '{topic}'")
    leaders = partition_leaders(meta)
    earliest, latest, configs = await asyncio.gather(
        list_offsets(session, leaders, EARLIEST), list_offsets(session, leaders, LATEST),
        _describe(session, ConfigResource(ConfigResourceType.TOPIC, topic), f"reading configs of topic '{topic}'"))
    return TargetTopic(meta.get("cluster_id"), brokers, True, len(entry["partitions"]), leaders,
                       {tp.partition: o for tp, o in earliest.items()}, {tp.partition: o for tp, o in latest.items()},
                       configs)


async def broker_defaults(session: KafkaSession) -> dict[str, str]:
    """The configs a new topic gets when it sets none, from one broker's settings."""
    node = session.broker_ids()[0]
    raw = await _describe(session, ConfigResource(ConfigResourceType.BROKER, str(node)), "reading broker configs")
    result = {topic_key: raw[broker_key] for topic_key, broker_key in BROKER_DEFAULTS.items()
              if raw.get(broker_key) is not None}
    for key, factor in (("log.retention.ms", 1), ("log.retention.minutes", 60_000), ("log.retention.hours", 3_600_000)):
        if raw.get(key) is not None:
            result["retention.ms"] = str(int(raw[key]) * factor)
            break
    return result


async def _describe(session: KafkaSession, resource: ConfigResource, action: str) -> dict[str, Any]:
    responses = await session.guard(session.admin.describe_configs([resource]), action)
    result: dict[str, Any] = {}
    for response in responses:
        for error_code, _msg, _rtype, _name, entries, *_ in response.resources:
            session.raise_for_code(error_code, action)
            result.update({entry[0]: entry[1] for entry in entries})
    return result


async def end_offsets(session: KafkaSession, topic: str, partitions: list[int]) -> dict[int, int]:
    meta = (await session.metadata([topic])).to_object()
    leaders = {tp: leader for tp, leader in partition_leaders(meta).items() if tp.partition in partitions}
    found = await list_offsets(session, leaders, LATEST)
    result = {tp.partition: offset for tp, offset in found.items()}
    missing = sorted(set(partitions) - set(result))
    if missing:
        raise KafkaRequestFailed(f"topic '{topic}' partition(s) {', '.join(map(str, missing))} on cluster "
                                 f"'{session.cluster.name}' have no leader now; retry when they have", retriable=True)
    return result


async def stable_end_offsets(session: KafkaSession, topic: str, partitions: list[int], settle_seconds: float,
                             tries: int = 20) -> dict[int, int]:
    """End offsets that stayed the same across ``settle_seconds``: a produce request a killed run left
    in flight is counted once it lands, not after we looked."""
    current = await end_offsets(session, topic, partitions)
    for _ in range(tries):
        await asyncio.sleep(settle_seconds)
        again = await end_offsets(session, topic, partitions)
        if again == current:
            return current
        current = again
    raise KafkaRequestFailed(f"the end offsets of '{topic}' keep moving: something else is writing into it; "
                             "stop it, then resume", retriable=True)


async def create_topic(session: KafkaSession, topic: str, partitions: int, replication_factor: int,
                       configs: dict[str, str]) -> None:
    action = f"creating topic '{topic}'"
    response = await session.guard(session.admin.create_topics(
        [NewTopic(topic, partitions, replication_factor, topic_configs=configs)]), action)
    for name, error_code, *rest in response.topic_errors:
        if error_code and error_code != TOPIC_ALREADY_EXISTS:
            message = rest[0] if rest and rest[0] else ""
            # a broker that has just restarted is fenced for a moment: Kafka says so in words only
            transient = kerr.for_code(error_code).retriable or "fenced" in message
            raise KafkaRequestFailed(f"{action} on cluster '{session.cluster.name}' failed: "
                                     f"{message or f'error code {error_code}'} ({name})", retriable=transient)
    for _ in range(400):  # the new partitions have leaders once metadata says so (usually within 0.1-0.3 s)
        meta = (await session.metadata([topic])).to_object()
        leaders = partition_leaders(meta)
        if len(leaders) == partitions and all(v is not None for v in leaders.values()) and len(
                await list_offsets(session, leaders, LATEST)) == partitions:
            return
        await asyncio.sleep(0.025)
    raise KafkaRequestFailed(f"{action}: its partitions got no leader within 10 s", retriable=True)


MAX_BATCH_BYTES = 1 << 20


def batch_bytes(configs: dict[str, Any]) -> int:
    """The largest batch to send the target: its max.message.bytes, capped at 1 MiB."""
    try:
        return min(MAX_BATCH_BYTES, int(configs.get("max.message.bytes", MAX_BATCH_BYTES)))
    except (TypeError, ValueError):
        return MAX_BATCH_BYTES


def timestamps_kept(configs: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The configs to create a copy's topic with, and those to set once every record is written. A
    LogAppendTime topic is created CreateTime, so the records written keep the times the source broker
    appended them (a LogAppendTime topic would stamp them with the time of the copy: time-based seeks
    and retention would be wrong), and set to LogAppendTime afterwards for the records to come."""
    if configs.get("message.timestamp.type") != "LogAppendTime":
        return configs, {}
    return {**configs, "message.timestamp.type": "CreateTime"}, {"message.timestamp.type": "LogAppendTime"}
