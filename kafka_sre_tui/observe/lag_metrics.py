"""Prometheus metrics of consumer groups from the lag engine's assessments (drain, ``lag --watch``
and the exporter), read at scrape time.

Series per group: labels ``cluster``, ``group`` and ``group_type`` (classic, consumer, share, streams: one
per group, so no extra series); per partition: plus ``topic`` and ``partition``.
Lag in seconds and ETA are absent when unknown: never NaN, never extrapolated. Per-partition
series are capped at ``max_partition_series`` in total (the largest lags first); the number left
out is itself a metric.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from kafka_sre_tui.engine.drain.assessment import Assessment
from kafka_sre_tui.engine.drain.status import Status
from kafka_sre_tui.observe.limits import MAX_PARTITION_SERIES


class LagCollector(Collector):
    def __init__(self, max_partition_series: int = MAX_PARTITION_SERIES) -> None:
        self.max_partition_series = max_partition_series
        self._latest: dict[tuple[str, str], Assessment] = {}
        self._lock = threading.Lock()

    def update(self, cluster: str, assessment: Assessment) -> None:
        with self._lock:
            self._latest[(cluster, assessment.group_id)] = assessment

    def keep_only(self, cluster: str, group_ids: set[str]) -> None:
        """Forget the groups of ``cluster`` that are gone (or no longer match)."""
        with self._lock:
            for key in [k for k in self._latest if k[0] == cluster and k[1] not in group_ids]:
                del self._latest[key]

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            latest = sorted(self._latest.items())
        g_labels = ["cluster", "group", "group_type"]

        def family(name: str, doc: str, extra: tuple[str, ...] = ()) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"kafka_sre_{name}", doc, labels=[*g_labels, *extra])

        lag = family("group_lag_records", "Records behind, summed over partitions with a commit")
        lag_s = family("group_lag_seconds", "Age of the oldest unconsumed record (absent when unknown)")
        lower = family("group_lag_seconds_lower_bound", "1 when the lag in seconds is a lower bound (≥)")
        eta = family("group_eta_seconds", "Seconds until drained at the current rates (absent when not draining)")
        status = family("group_status", "1 for the group's current status, 0 for the others", ("status",))
        members = family("group_members", "Members of the group")
        no_commit = family("group_partitions_without_commit", "Partitions the group has never committed on")
        prod = family("group_production_rate_records_per_second", "Records/s produced to the group's partitions")
        cons = family("group_consumption_rate_records_per_second", "Records/s the group's commits advance")
        p_lag = family("partition_lag_records", "Records behind on one partition", ("topic", "partition"))
        p_lag_s = family("partition_lag_seconds", "Age of the partition's oldest unconsumed record",
                         ("topic", "partition"))
        dropped = GaugeMetricFamily("kafka_sre_partition_series_dropped",
                                    "Partitions left out of the per-partition series by the cardinality cap")
        partitions = []
        for (cluster, group), a in latest:
            key = [cluster, group, a.group_type]
            lag.add_metric(key, a.total_lag)
            if a.lag_time is not None:
                lag_s.add_metric(key, a.lag_time.seconds)
                lower.add_metric(key, 1.0 if a.lag_time.lower_bound else 0.0)
            if a.eta.seconds is not None:
                eta.add_metric(key, a.eta.seconds)
            elif a.total_lag == 0:
                eta.add_metric(key, 0.0)
            for s in Status:
                status.add_metric([*key, s.value], 1.0 if a.status is s else 0.0)
            members.add_metric(key, a.member_count)
            no_commit.add_metric(key, a.partitions_without_commit)
            if a.production_rate is not None:
                prod.add_metric(key, a.production_rate)
            if a.consumption_rate is not None:
                cons.add_metric(key, a.consumption_rate)
            partitions += [(key, p) for p in a.partitions if p.lag is not None]
        partitions.sort(key=lambda kp: -(kp[1].lag or 0))
        for key, p in partitions[:self.max_partition_series]:
            labels = [*key, p.topic, str(p.partition)]
            p_lag.add_metric(labels, p.lag or 0)
            if p.lag_time is not None:
                p_lag_s.add_metric(labels, p.lag_time.seconds)
        dropped.add_metric([], max(len(partitions) - self.max_partition_series, 0))
        yield from (lag, lag_s, lower, eta, status, members, no_commit, prod, cons, p_lag, p_lag_s, dropped)
