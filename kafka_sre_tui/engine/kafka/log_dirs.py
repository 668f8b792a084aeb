"""Replica sizes on disk (DescribeLogDirs): one request per broker, all brokers at once.

Each broker reports only the replicas it holds, so every broker is asked. A broker that refuses (no
Describe permission on the Cluster, a broker too old for the API), does not answer in time, or a log
dir that is offline leaves those replicas' sizes unknown (None) without failing the rest; why is
kept as one line per broker or log dir in :attr:`LogDirSizes.problems`.

A topic's size is what its leaders hold (what kafka-ui and AKHQ call the size); the replicas' total
is the disk it uses across the cluster. Logs being moved between dirs (future logs) are left out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aiokafka import errors as kerr

from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.kafka.protocol import DescribeLogDirs, log_dirs_answer
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import PartitionInfo, TopicInfo, TopicPartition

_NO_PERMISSION = "not authorized to describe log dirs (needs Describe on the Cluster resource)"


@dataclass(frozen=True)
class LogDirSizes:
    """Bytes of each replica the brokers reported: topic -> partition -> broker id -> bytes."""

    replicas: Mapping[str, Mapping[int, Mapping[int, int]]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # why some sizes are unknown, one line each

    def replica_size(self, tp: TopicPartition, broker: int | None) -> int | None:
        if broker is None:
            return None
        return self.replicas.get(tp.topic, {}).get(tp.partition, {}).get(broker)


async def describe_log_dirs(session: KafkaSession,
                            topics: Mapping[str, Sequence[int]] | None = None) -> LogDirSizes:
    """Sizes of the replicas of ``topics`` (topic -> partition numbers), or of every replica when None."""
    brokers = session.broker_ids()
    if not brokers:
        await session.metadata([])
        brokers = session.broker_ids()
    request = DescribeLogDirs(None if topics is None else {t: list(ps) for t, ps in topics.items()})
    answers = await asyncio.gather(*(_ask_broker(session, node, request) for node in brokers))
    return await asyncio.to_thread(_combine, brokers, answers)


async def _ask_broker(session: KafkaSession, node: int, request: DescribeLogDirs) -> Any | str:
    """The broker's answer, or one line saying why there is none."""
    try:
        return await session.send(node, request, f"describing the log dirs of broker {node}")
    except KsreError as exc:  # its message names the broker and the cluster
        return str(exc)
    except NotImplementedError:  # aiokafka found no version both sides speak
        return f"broker {node}: serves no DescribeLogDirs version this tool speaks (v0, v1, v4)"


def _combine(brokers: Sequence[int], answers: Sequence[Any | str]) -> LogDirSizes:
    replicas: dict[str, dict[int, dict[int, int]]] = {}
    problems: list[str] = []
    for node, answer in zip(brokers, answers, strict=True):
        if isinstance(answer, str):
            problems.append(answer)
            continue
        problems += _read_answer(node, answer, replicas)
    return LogDirSizes(replicas, tuple(problems))


def _read_answer(node: int, response: Any, replicas: dict[str, dict[int, dict[int, int]]]) -> list[str]:
    code, results = log_dirs_answer(response)
    if code:
        return [f"broker {node}: {_describe_code(code)}"]
    if not results:  # before v3 a refused request is an empty answer
        return [f"broker {node}: reported no log dirs ({_NO_PERMISSION}?)"]
    problems = []
    for result in results:
        error_code, log_dir, topics = result[0], result[1], result[2]
        if error_code:
            problems.append(f"broker {node} log dir {log_dir}: {_describe_code(error_code)}")
            continue
        for topic, partitions, *_ in topics:
            on_topic = replicas.setdefault(topic, {})
            for partition, size, _offset_lag, is_future, *_ in partitions:
                if not is_future:
                    on_topic.setdefault(partition, {})[node] = size
    return problems


def _describe_code(code: int) -> str:
    error = kerr.for_code(code)
    if error is kerr.ClusterAuthorizationFailedError:
        return _NO_PERMISSION
    return f"{error.__name__} (error code {code})"


def apply_sizes(topics: Iterable[TopicInfo], sizes: LogDirSizes) -> list[TopicInfo]:
    """``topics`` with each partition's leader size and replicas' total filled in from ``sizes``."""
    return [replace(t, partitions=tuple(_sized(p, sizes.replicas.get(t.name, {})) for p in t.partitions))
            for t in topics]


def _sized(p: PartitionInfo, on_topic: Mapping[int, Mapping[int, int]]) -> PartitionInfo:
    leader, total = partition_sizes(on_topic.get(p.partition, {}), p.leader, p.replicas)
    # the constructor, not dataclasses.replace: three times faster on 50,000 partitions
    return PartitionInfo(**{**vars(p), "size_bytes": leader, "replicas_size_bytes": total})


def partition_sizes(on_brokers: Mapping[int, int], leader: int | None,
                    replicas: Iterable[int]) -> tuple[int | None, int | None]:
    """The leader replica's size and the replicas' total (None when a replica's size is unknown)."""
    on_replicas = [on_brokers.get(broker) for broker in replicas]
    total = None if None in on_replicas else sum(s for s in on_replicas if s is not None)
    return (None if leader is None else on_brokers.get(leader)), total
