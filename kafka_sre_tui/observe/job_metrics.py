"""Prometheus metrics of one job (backup, restore, migrate, drain, watch), read from its
:class:`JobState` at scrape time: nothing is counted twice and nothing runs in the job's path.

Labels on every series: ``kind`` and ``job_id``; one series per job (the dashboard runs several).
See the README (Metrics) for the list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from kafka_sre_tui.observe.job import STATES, JobState

P = "kafka_sre_job_"


class JobCollector(Collector):
    """One job's metrics (a CLI run), or those of every job ``states()`` returns at scrape time (the
    dashboard's): each metric family once, one series per job."""

    def __init__(self, state: JobState | None = None, states: Callable[[], Iterable[JobState]] | None = None) -> None:
        self.states = states if states is not None else (lambda: [state] if state is not None else [])

    def collect(self) -> Iterator[Metric]:
        labels = ["kind", "job_id"]
        families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}

        def family(kind: type[GaugeMetricFamily] | type[CounterMetricFamily], name: str, doc: str,
                   extra: tuple[str, ...] = ()) -> GaugeMetricFamily | CounterMetricFamily:
            if name not in families:
                families[name] = kind(P + name, doc, labels=[*labels, *extra])
            return families[name]

        job: list[str] = []

        def gauge(name: str, doc: str, value: float | None) -> None:
            if value is not None:
                family(GaugeMetricFamily, name, doc).add_metric(job, value)

        def counter(name: str, doc: str, value: float) -> None:
            family(CounterMetricFamily, name, doc).add_metric(job, value)

        for s in self.states():
            job[:] = values = [s.kind, s.job_id]

            counter("records", "Records handled by this run of the job", s.records)
            counter("bytes", "Bytes moved by this run: read by a backup, written by a restore or migration", s.bytes)
            counter("errors", "1 when the job failed (an error, not an outcome such as a drain timing out)",
                    s.errors)
            counter("retries", "Times the job lost its cluster and tried again (backup, restore, migrate) or a "
                    "sample failed and was tried again (drain, watch)", s.retries)
            gauge("throughput_bytes_per_second", "Bytes per second since the job started", s.bytes_per_second)
            gauge("throughput_records_per_second", "Records per second since the job started",
                  s.records_per_second)
            gauge("duration_seconds", "Seconds the job has run", s.elapsed_seconds)
            gauge("progress_ratio", "Fraction of the planned offsets done (absent when open-ended)", s.fraction)
            gauge("start_time_seconds", "When the job started, Unix time", s.started_at)
            gauge("last_progress_time_seconds", "When the job last reported progress, Unix time", s.last_progress_at)
            gauge("last_checkpoint_time_seconds", "When the job last made its progress durable, Unix time "
                  "(backup, restore, migrate; a kill resumes from there)", s.last_checkpoint_at)
            gauge("replication_lag_records", "Migration: source records not yet on the target",
                  s.migration_lag_records)
            gauge("replication_lag_seconds", "Migration: age of the oldest record not yet copied",
                  s.migration_lag_seconds if s.migration_lag_records is not None else None)
            state = family(GaugeMetricFamily, "state", "1 for the job's current state, 0 for the others", ("state",))
            for name in STATES:
                state.add_metric([*values, name], 1.0 if s.state == name else 0.0)
        yield from families.values()
