"""The lag exporter's loop: every interval, every consumer group of a cluster through the inspection
path (one ListGroups per broker, one DescribeGroups per coordinator, OffsetFetch with bounded
concurrency, one ListOffsets per leader: the same round trips whatever the number of groups), judged
by the lag engine (a DrainTracker per group) and handed to a :class:`LagCollector`.

Lag in seconds is interpolated over the sampled end offsets and is a lower bound ("≥") when the
committed offset is older than the history kept: never NaN, never extrapolated. Memory is bounded:
``history_samples`` looks per group, at most ``max_groups`` groups (the rest counted, not exported).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from kafka_sre_tui.config import ClusterConfig
from kafka_sre_tui.engine.drain.samples import GroupSample
from kafka_sre_tui.engine.drain.tracker import DrainTracker, TrackerSettings
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.inspect.groups import list_groups
from kafka_sre_tui.engine.kafka.session import KafkaSession
from kafka_sre_tui.observe.lag_metrics import LagCollector
from kafka_sre_tui.observe.limits import MAX_GROUPS

_log = logging.getLogger("kafka_sre_tui.exporter")


@dataclass(frozen=True)
class ExporterSettings:
    interval_seconds: float = 15.0
    groups: re.Pattern[str] | None = None  # only groups whose id matches (re.search)
    max_groups: int = MAX_GROUPS
    tracker: TrackerSettings = field(default_factory=lambda: TrackerSettings(history_samples=40))


@dataclass
class ClusterStats:
    """What the exporter itself reports per cluster (read at scrape time)."""

    up: bool = False
    groups: int = 0
    groups_skipped: int = 0
    rounds: int = 0
    errors: int = 0
    round_seconds: float | None = None
    last_success: float | None = None
    last_error: str | None = None


class ExporterCollector(Collector):
    def __init__(self, stats: dict[str, ClusterStats]) -> None:
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        p = "kafka_sre_exporter_"
        up = GaugeMetricFamily(p + "up", "1 when the last round reached the cluster", labels=["cluster"])
        groups = GaugeMetricFamily(p + "groups", "Groups exported", labels=["cluster"])
        skipped = GaugeMetricFamily(p + "groups_skipped", "Matching groups over --max-groups, not exported",
                                    labels=["cluster"])
        rounds = CounterMetricFamily(p + "rounds", "Sampling rounds completed", labels=["cluster"])
        errors = CounterMetricFamily(p + "errors", "Sampling rounds that failed", labels=["cluster"])
        took = GaugeMetricFamily(p + "round_duration_seconds", "How long the last round took", labels=["cluster"])
        last = GaugeMetricFamily(p + "last_success_time_seconds", "When a round last succeeded, Unix time",
                                 labels=["cluster"])
        for name, s in sorted(self.stats.items()):
            up.add_metric([name], 1.0 if s.up else 0.0)
            groups.add_metric([name], s.groups)
            skipped.add_metric([name], s.groups_skipped)
            rounds.add_metric([name], s.rounds)
            errors.add_metric([name], s.errors)
            if s.round_seconds is not None:
                took.add_metric([name], s.round_seconds)
            if s.last_success is not None:
                last.add_metric([name], s.last_success)
        yield from (up, groups, skipped, rounds, errors, took, last)


class GroupJudge:
    """One DrainTracker per group; groups that disappear are forgotten."""

    def __init__(self, cluster: str, settings: ExporterSettings, collector: LagCollector, stats: ClusterStats) -> None:
        self.cluster, self.settings, self.collector, self.stats = cluster, settings, collector, stats
        self.trackers: dict[str, DrainTracker] = {}

    async def round(self, session: KafkaSession, clock: Callable[[], float]) -> None:
        groups = await list_groups(session)
        at = clock()
        pattern = self.settings.groups
        matching = [g for g in groups if pattern is None or pattern.search(g.group_id)]
        kept = matching[:self.settings.max_groups]
        for g in kept:
            tracker = self.trackers.setdefault(g.group_id, DrainTracker(self.settings.tracker))
            self.collector.update(self.cluster, tracker.observe(GroupSample.from_group(g, at)))
        names = {g.group_id for g in kept}
        for gone in set(self.trackers) - names:
            del self.trackers[gone]
        self.collector.keep_only(self.cluster, names)
        self.stats.groups, self.stats.groups_skipped = len(kept), len(matching) - len(kept)


async def export_cluster(cluster: ClusterConfig, settings: ExporterSettings, collector: LagCollector,
                         stats: ClusterStats, *, clock: Callable[[], float] = time.time,
                         sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                         rounds: int | None = None) -> None:
    """Sample ``cluster`` every interval until cancelled (or ``rounds`` rounds); a failed round is
    counted and logged, the connection reopened, and sampling goes on."""
    judge = GroupJudge(cluster.name, settings, collector, stats)
    session: KafkaSession | None = None
    done = 0
    try:
        while rounds is None or done < rounds:
            started = clock()
            try:
                if session is None:
                    session = await KafkaSession(cluster).__aenter__()
                await judge.round(session, clock)
            except KsreError as exc:
                stats.up, stats.errors, stats.last_error = False, stats.errors + 1, str(exc)
                _log.warning("exporter round failed: %s", exc, extra={"fields": {"cluster": cluster.name}})
                if session is not None:
                    await session.__aexit__(None, None, None)
                    session = None
            else:
                stats.up, stats.rounds, stats.last_success = True, stats.rounds + 1, clock()
                stats.round_seconds = clock() - started
            done += 1
            await sleep(max(settings.interval_seconds - (clock() - started), 0.0))
    finally:
        if session is not None:
            await session.__aexit__(None, None, None)
