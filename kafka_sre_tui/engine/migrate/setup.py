"""Before the first record: look at both topics, check, create the target, and write the plan and each
partition's start durably, or load them to resume (finding what a killed run wrote after its last
checkpoint from the target's end offsets, as restore does)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kafka_sre_tui.engine.errors import ConfigError, KafkaRequestFailed, KsreError
from kafka_sre_tui.engine.inspect.cluster import topic_configs
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offsets import EARLIEST, LATEST, READ_COMMITTED, list_offsets
from kafka_sre_tui.engine.kafka.session import KafkaSession, topic_not_found
from kafka_sre_tui.engine.migrate.request import MigrateRequest
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.engine.restore.plan import PartitionSelection
from kafka_sre_tui.engine.restore.state import (
    PartitionProgress,
    load_partitions,
    load_plan,
    save_partition,
    save_plan,
    state_dir,
)
from kafka_sre_tui.engine.target.checks import OK, WARN, Check, Source, Write, target_checks
from kafka_sre_tui.engine.target.topic import (
    NOT_COPIED,
    TargetTopic,
    batch_bytes,
    create_topic,
    end_offsets,
    inspect_target,
    stable_end_offsets,
    timestamps_kept,
)


@dataclass(frozen=True)
class SourceTopic:
    cluster_id: str | None
    partitions: int
    replication_factor: int
    earliest: dict[int, int]
    stable_end: dict[int, int]  # last stable offsets (read_committed end)
    own_configs: dict[str, str]  # set on the topic itself
    effective: dict[str, str]  # every config that applies to it


async def inspect_source(session: KafkaSession, topic: str) -> SourceTopic:
    """The source topic, with every partition's offsets. A partition without a leader (its brokers are
    down) is a retriable error at once: its end read as 0 would plan a copy of nothing and call it done,
    and asking for its offsets only waits for a leader that is not coming back soon."""
    meta = (await session.metadata([topic])).to_object()
    leaders = partition_leaders(meta)
    _offsets_known(session, topic, sorted(tp.partition for tp, node in leaders.items() if node is None))
    found = await inspect_target(session, topic)
    if not found.exists:
        raise topic_not_found(topic, session.cluster)
    rf = max((len(p["replicas"]) for t in meta["topics"] for p in t["partitions"]), default=1)
    stable, own = await asyncio.gather(list_offsets(session, leaders, LATEST, READ_COMMITTED),
                                       topic_configs(session, [topic]))
    earliest = await list_offsets(session, leaders, EARLIEST)
    _offsets_known(session, topic, sorted(p for p in range(found.partitions)
                                          if TopicPartition(topic, p) not in stable
                                          or TopicPartition(topic, p) not in earliest))
    return SourceTopic(found.cluster_id, found.partitions, rf, {tp.partition: o for tp, o in earliest.items()},
                       {tp.partition: o for tp, o in stable.items()}, own.get(topic, {}),
                       {k: str(v) for k, v in found.configs.items() if v is not None})


def _offsets_known(session: KafkaSession, topic: str, unknown: list[int]) -> None:
    if unknown:
        raise KafkaRequestFailed(f"the offsets of partition(s) {', '.join(map(str, unknown))} of '{topic}' on "
                                 f"cluster '{session.cluster.name}' are unknown (no leader answered); retry when "
                                 "every partition has a leader", retriable=True)


async def stable_ends(session: KafkaSession, topic: str) -> dict[int, int]:
    meta = (await session.metadata([topic])).to_object()
    found = await list_offsets(session, partition_leaders(meta), LATEST, READ_COMMITTED)
    return {tp.partition: o for tp, o in found.items()}


def state_folder(request: MigrateRequest, source: SourceTopic, target_cluster_id: str | None) -> Path:
    return state_dir(request.state_dir, f"{source.cluster_id or 'unknown-cluster'}.{request.source_topic}",
                     target_cluster_id, request.target)


def selections(request: MigrateRequest, source: SourceTopic) -> list[tuple[int, int]]:
    """(source partition, target partition) pairs."""
    wanted = request.partitions if request.partitions is not None else tuple(range(source.partitions))
    outside = [p for p in wanted if not 0 <= p < source.partitions]
    if outside:
        raise ConfigError(f"topic '{request.source_topic}' has partitions 0-{source.partitions - 1}; "
                          f"{', '.join(map(str, outside))} do not exist")
    mapping = request.partition_map
    if mapping is not None and any(p not in mapping for p in wanted):
        raise ConfigError(f"--partition-map does not say where partition(s) "
                          f"{', '.join(str(p) for p in wanted if p not in mapping)} go; add them or use --partitions")
    return [(p, mapping[p] if mapping is not None else p) for p in wanted]


def create_configs(source: SourceTopic) -> dict[str, str]:
    """The source topic's own configs, and always its effective message.timestamp.type (a target broker
    whose default is LogAppendTime would otherwise restamp every record)."""
    configs = {k: v for k, v in source.own_configs.items() if k not in NOT_COPIED}
    configs["message.timestamp.type"] = source.effective.get("message.timestamp.type", "CreateTime")
    return configs


def check(request: MigrateRequest, source: SourceTopic, target: TargetTopic, pairs: list[tuple[int, int]],
          target_name: str) -> list[Check]:
    rf = request.replication_factor or source.replication_factor
    write = Write("copy", request.target, target_name, request.create_topic, rf, create_configs(source), pairs,
                  request.partition_map is not None, request.force)
    checks = target_checks(target, Source("the source", source.partitions), write)
    effective = target.configs if target.exists else {**target.configs, **create_configs(source)}
    if source.effective.get("message.timestamp.type") == "LogAppendTime":
        checks.append(Check("timestamps", WARN, "the source topic uses LogAppendTime: records keep the time the "
                                                "source broker appended them, written as CreateTime"))
    if effective.get("message.timestamp.type") == "LogAppendTime" and not target.exists:
        checks.append(Check("timestamps", OK, f"target topic '{request.target}' will use LogAppendTime: it is created "
                                              "with CreateTime so copied records keep their times, and set to "
                                              "LogAppendTime by the cutover's switch step"))
    elif effective.get("message.timestamp.type") == "LogAppendTime":
        checks.append(Check("timestamps", WARN, f"target topic '{request.target}' uses LogAppendTime: the target "
                                                "broker restamps every record; verify will report the timestamps as "
                                                "different"))
    else:
        checks.append(Check("timestamps", OK, "every record keeps its timestamp (CreateTime)"))
    return checks


async def start_fresh(session: KafkaSession, request: MigrateRequest, source: SourceTopic, target: TargetTopic,
                      pairs: list[tuple[int, int]], states: Path, source_name: str) -> tuple[
                          dict[str, Any], list[PartitionProgress]]:
    create_with, set_after = timestamps_kept(create_configs(source)) if not target.exists else ({}, {})
    if not target.exists:
        await create_topic(session, request.target, source.partitions,
                           request.replication_factor or source.replication_factor, create_with)
    configs = target.configs if target.exists else {**target.configs, **create_with}
    starts = await end_offsets(session, request.target, [t for _s, t in pairs])
    progress = [PartitionProgress.fresh(PartitionSelection(s, t, source.earliest.get(s, 0),
                                                           source.stable_end.get(s, 0)), starts[t])
                for s, t in pairs]
    plan = {"kind": "migration", "source": source_name, "source_topic": request.source_topic,
            "source_cluster_id": source.cluster_id, "target_topic": request.target,
            "target_cluster": session.cluster.name, "target_cluster_id": target.cluster_id,
            "created_at": datetime.now(UTC).isoformat(), "partitions": [s for s, _t in pairs],
            "max_batch_bytes": batch_bytes(configs), "compression": request.compression,
            "configs_after": set_after}  # set by cutover's switch step
    for p in progress:  # durable before the first record: the resume's reference point
        await asyncio.to_thread(save_partition, states, p.to_json())
    await asyncio.to_thread(save_plan, states, plan)
    return plan, progress


async def load_for_resume(session: KafkaSession, request: MigrateRequest, plan: dict[str, Any],
                          pairs: list[tuple[int, int]], states: Path,
                          settle_seconds: float) -> tuple[list[PartitionProgress], dict[int, int]]:
    """The checkpointed progress, and per source partition how many records a killed run wrote after
    its last checkpoint (the next ones of the source, at the next target offsets: not written again)."""
    progress = load_partitions(states, plan["partitions"])
    planned = [(p.selection.partition, p.selection.target_partition) for p in progress]
    chosen = request.partitions is not None or request.partition_map is not None
    if chosen and sorted(planned) != sorted(pairs):
        raise ConfigError(f"the migration in {states} copies partitions {planned}, not {pairs}; use the same "
                          "--partitions/--partition-map, or another --target-topic")
    ends = await stable_end_offsets(session, request.target, [t for _s, t in planned], settle_seconds)
    extra = {}
    for p in progress:
        found = ends[p.selection.target_partition] - p.target_next
        if found < 0:
            raise KsreError(f"target partition {p.selection.target_partition} of '{request.target}' ends at "
                            f"{ends[p.selection.target_partition]}, before the {p.target_next} this migration "
                            f"checkpointed: it was truncated or recreated; delete {states} and migrate again")
        extra[p.selection.partition] = found
    return progress, extra


def previous_plan(states: Path) -> dict[str, Any] | None:
    return load_plan(states)
