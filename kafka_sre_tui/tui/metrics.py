"""``dashboard --metrics-port``: the groups the dashboard judges anyway, served as the lag metrics
(observe/lag_metrics.py), and the jobs started in it, as the job metrics of a CLI run
(observe/job_metrics.py). Read at scrape time from the panes; no extra Kafka requests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from kafka_sre_tui.observe.job import JobState
from kafka_sre_tui.observe.job_metrics import JobCollector
from kafka_sre_tui.observe.lag_metrics import LagCollector


class DashboardLag(Collector):
    def __init__(self, app: Any) -> None:
        self.app = app  # a KsreApp; its groups pane exists once the app is composed

    def collect(self) -> Iterator[Metric]:
        snapshot = LagCollector()
        pane = getattr(self.app, "groups_pane", None)
        for assessment in pane.latest_assessments() if pane is not None else ():
            snapshot.update(self.app.cluster.name, assessment)
        yield from snapshot.collect()


def dashboard_jobs(app: Any) -> JobCollector:
    """Every job of the Jobs pane (running or ended), one series each."""
    def states() -> list[JobState]:
        pane = getattr(app, "jobs_pane", None)
        return [job.observed.state for job in tuple(pane.jobs.values())] if pane is not None else []
    return JobCollector(states=states)
