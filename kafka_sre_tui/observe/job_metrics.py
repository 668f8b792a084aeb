"""Prometheus metrics of one job (backup, restore, migrate, drain, watch), read from its
:class:`JobState` at scrape time: nothing is counted twice and nothing runs in the job's path.

Labels on every series: ``kind`` and ``job_id``. See the README (Metrics) for the list.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from kafka_sre_tui.observe.job import STATES, JobState

P = "kafka_sre_job_"


class JobCollector(Collector):
    def __init__(self, state: JobState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        s = self.state
        labels, values = ["kind", "job_id"], [s.kind, s.job_id]

        def gauge(name: str, doc: str, value: float | None) -> Iterator[Metric]:
            if value is not None:
                g = GaugeMetricFamily(P + name, doc, labels=labels)
                g.add_metric(values, value)
                yield g

        def counter(name: str, doc: str, value: float) -> Metric:
            c = CounterMetricFamily(P + name, doc, labels=labels)
            c.add_metric(values, value)
            return c

        yield counter("records", "Records handled by this run of the job", s.records)
        yield counter("bytes", "Bytes moved by this run: read by a backup, written by a restore or migration",
                      s.bytes)
        yield counter("errors", "1 when the job failed (an error, not an outcome such as a drain timing out)",
                      s.errors)
        yield counter("retries", "Times the job lost its cluster and tried again (backup, restore, migrate) or a "
                      "sample failed and was tried again (drain, watch)", s.retries)
        yield from gauge("throughput_bytes_per_second", "Bytes per second since the job started",
                         s.bytes_per_second)
        yield from gauge("throughput_records_per_second", "Records per second since the job started",
                         s.records_per_second)
        yield from gauge("duration_seconds", "Seconds the job has run", s.elapsed_seconds)
        yield from gauge("progress_ratio", "Fraction of the planned offsets done (absent when open-ended)",
                         s.fraction)
        yield from gauge("start_time_seconds", "When the job started, Unix time", s.started_at)
        yield from gauge("last_progress_time_seconds", "When the job last reported progress, Unix time",
                         s.last_progress_at)
        yield from gauge("last_checkpoint_time_seconds", "When the job last made its progress durable, Unix time "
                         "(backup, restore, migrate; a kill resumes from there)", s.last_checkpoint_at)
        yield from gauge("replication_lag_records", "Migration: source records not yet on the target",
                         s.migration_lag_records)
        yield from gauge("replication_lag_seconds", "Migration: age of the oldest record not yet copied",
                         s.migration_lag_seconds if s.migration_lag_records is not None else None)
        state = GaugeMetricFamily(P + "state", "1 for the job's current state, 0 for the others",
                                  labels=[*labels, "state"])
        for name in STATES:
            state.add_metric([*values, name], 1.0 if s.state == name else 0.0)
        yield state
