"""The Kafka side of time to data loss: per sample of a group, the log start offsets (one ListOffsets
per leader), the topics' effective retention settings (one DescribeConfigs, cached for a minute), the
partition sizes when a topic has ``retention.bytes`` (one DescribeLogDirs per broker), and a bounded
history of those to see the log start move and the log grow. The committed record's timestamp comes
with the sample (timestamps.py). :class:`DataLossSampler` wraps a group sampler with it."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from kafka_sre_tui.engine.drain.data_loss import DataLoss, LossStatus, RetentionView, estimate
from kafka_sre_tui.engine.drain.monitor import Sampler
from kafka_sre_tui.engine.drain.sampler import GroupSampler
from kafka_sre_tui.engine.drain.samples import GroupSample
from kafka_sre_tui.engine.errors import AuthorizationFailed
from kafka_sre_tui.engine.kafka.log_dirs import describe_log_dirs
from kafka_sre_tui.engine.kafka.metadata import partition_leaders
from kafka_sre_tui.engine.kafka.offsets import EARLIEST, list_offsets
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.engine.models import TopicPartition

CONFIG_TTL_SECONDS = 60.0
RETENTION_CONFIGS = ("cleanup.policy", "retention.ms", "retention.bytes")
HISTORY = 120  # looks kept per partition for the rates
LOOK_EVERY_SECONDS = 5.0


class DataLossProbe:
    def __init__(self, session: KafkaSession, clock: Callable[[], float] = time.time) -> None:
        self.session = session
        self.clock = clock
        # topic -> (read at, retention.ms, retention.bytes); None where the configs could not be read
        self._configs: dict[str, tuple[float, int | None, int | None]] = {}
        self._history: dict[TopicPartition, deque[tuple[float, int, int | None, int | None]]] = {}

    async def look(self, sample: GroupSample) -> dict[TopicPartition, DataLoss]:
        parts = [p for p in sample.partitions if p.committed is not None and (p.lag or 0) > 0]
        if not parts:
            return {}
        topics = sorted({p.topic for p in parts})
        meta = await self.session.metadata_object(topics)
        leaders = partition_leaders(meta)
        tps = {p.tp: leaders.get(p.tp) for p in parts}
        starts = await list_offsets(self.session, tps, EARLIEST)
        configs = await self.retention(topics)
        sized = {t for t in topics if (configs[t][1] or -1) >= 0}
        sizes = await describe_log_dirs(self.session, {t: [p.partition for p in parts if p.topic == t]
                                                       for t in sized}) if sized else None
        result = {}
        for p in parts:
            size = sizes.replica_size(p.tp, leaders.get(p.tp)) if sizes and p.topic in sized else None
            history = self._history.setdefault(p.tp, deque(maxlen=HISTORY))
            if p.tp in starts:
                history.append((sample.at, starts[p.tp], p.end_offset, size))
            retention_ms, retention_bytes = configs[p.topic]
            view = RetentionView(
                committed=p.committed, log_start=starts.get(p.tp), end_offset=p.end_offset,
                committed_timestamp_ms=p.record.timestamp_ms if p.record else None,
                retention_ms=retention_ms, retention_bytes=retention_bytes if p.topic in sized else -1,
                size_bytes=size, growth_bytes_per_second=growth(history), log_start_rate=start_rate(history))
            result[p.tp] = estimate(view, int(sample.at * 1000))
        self._history = {tp: h for tp, h in self._history.items() if tp in tps}
        return result

    async def retention(self, topics: list[str]) -> dict[str, tuple[int | None, int | None]]:
        now = self.clock()
        stale = [t for t in topics if t not in self._configs or now - self._configs[t][0] > CONFIG_TTL_SECONDS]
        if stale:
            # only the three settings: all of a topic's ~40 are 15 times the answer (8,000 topics: seconds)
            resources = [ConfigResource(ConfigResourceType.TOPIC, t, dict.fromkeys(RETENTION_CONFIGS)) for t in stale]
            try:
                responses = await self.session.guard(self.session.admin.describe_configs(resources),
                                                     "reading retention settings")
            except AuthorizationFailed:  # no DescribeConfigs on the topic: retention stays unknown
                return {t: self._configs[t][1:] if t in self._configs else (None, None) for t in topics}
            for response in responses:
                for error_code, _msg, _type, name, entries, *_ in response.resources:
                    if error_code:  # not allowed to see this topic's configs, or it is gone: unknown
                        self._configs[name] = (now, None, None)
                        continue
                    values = {e[0]: e[1] for e in entries}
                    deletes = "delete" in (values.get("cleanup.policy") or "delete")
                    self._configs[name] = (now, int(values.get("retention.ms") or -1) if deletes else -1,
                                           int(values.get("retention.bytes") or -1) if deletes else -1)
        return {t: self._configs[t][1:] for t in topics}


def start_rate(history: deque[tuple[float, int, int | None, int | None]]) -> float | None:
    if len(history) < 2 or history[-1][0] <= history[0][0]:
        return None
    moved = history[-1][1] - history[0][1]
    return moved / (history[-1][0] - history[0][0]) if moved > 0 else None


def growth(history: deque[tuple[float, int, int | None, int | None]]) -> float | None:
    """Bytes per second the partition's end grows: records produced per second × bytes per record."""
    if len(history) < 2:
        return None
    (t0, _s0, e0, _z0), (t1, s1, e1, size) = history[0], history[-1]
    if e0 is None or e1 is None or size is None or t1 <= t0 or e1 <= s1 or e1 <= e0:
        return None
    return (e1 - e0) / (t1 - t0) * size / (e1 - s1)


class DataLossSampler:
    """A group sampler whose samples also get time-to-data-loss estimates (``latest``): looked up on the
    first sample and then at most every ``every_seconds`` (retention moves slowly; the drain monitor
    samples fast), the times left counted down in between."""

    def __init__(self, inner: Sampler, probe: DataLossProbe, every_seconds: float = LOOK_EVERY_SECONDS) -> None:
        self.inner = inner
        self.probe = probe
        self.every_seconds = every_seconds
        self.timestamps = getattr(inner, "timestamps", None)
        self.latest: dict[TopicPartition, DataLoss] = {}
        self.last: GroupSample | None = None  # the latest sample (its committed records: stuck.py)
        self._looked: tuple[float, dict[TopicPartition, DataLoss]] | None = None

    async def sample(self) -> GroupSample:
        sample = self.last = await self.inner.sample()
        if self._looked is None or sample.at - self._looked[0] >= self.every_seconds:
            self._looked = (sample.at, await self.probe.look(sample))
        at, found = self._looked
        self.latest = {tp: _later(d, sample.at - at) for tp, d in found.items()}
        return sample

    async def close(self) -> None:
        await self.inner.close()


def _later(loss: DataLoss, seconds: float) -> DataLoss:
    if loss.eta_seconds is None or seconds <= 0 or loss.status == LossStatus.LOST:
        return loss
    return replace(loss, eta_seconds=max(loss.eta_seconds - seconds, 0.0))


async def group_data_loss(session: KafkaSession, group_id: str,
                          clock: Callable[[], float] = time.time) -> dict[TopicPartition, DataLoss]:
    """One look (``lag GROUP``): retention settings and the committed records' ages; the log start's
    movement and the log's growth need a watch (``lag --watch``) to be seen."""
    # one look, so the committed records' timestamps get the whole request time, not a sample's slice
    async with GroupSampler(session, group_id, clock=clock,
                            timestamp_budget_seconds=session.cluster.request_timeout_seconds) as sampler:
        sample = await sampler.sample()
    return await DataLossProbe(session, clock).look(sample)
