"""A job's state and its metrics from its events (pure: fake events, a registry, no HTTP, no Kafka)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from kafka_sre_tui.engine.backup.run import BackupProgress
from kafka_sre_tui.engine.drain.monitor import SampleFailed
from kafka_sre_tui.engine.jobs import Checkpointed, Retrying
from kafka_sre_tui.observe.job import ObservedJob
from kafka_sre_tui.observe.job_metrics import JobCollector


def _registry(job: ObservedJob) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(JobCollector(job.state))
    return registry


def test_progress_retries_and_end_reach_the_metrics() -> None:
    now = [100.0]
    job = ObservedJob("backup", clock=lambda: now[0])
    registry = _registry(job)
    labels = {"kind": "backup", "job_id": job.state.job_id}
    job.event(BackupProgress(records=500, bytes=4_000_000, elapsed_seconds=2.0, offsets_done=500, offsets_total=1000,
                             partitions_done=0, partitions_total=2, backup_id="b-1", bytes_written=1000))
    job.event(SampleFailed("broker restarting", 101.0))
    assert registry.get_sample_value("kafka_sre_job_last_checkpoint_time_seconds", labels) is None
    now[0] = 102.0
    job.event(Checkpointed())
    job.event(Retrying("broker 1 is not answering", 0.5, 60))
    assert registry.get_sample_value("kafka_sre_job_last_checkpoint_time_seconds", labels) == 102.0
    assert registry.get_sample_value("kafka_sre_job_records_total", labels) == 500
    assert registry.get_sample_value("kafka_sre_job_throughput_bytes_per_second", labels) == 2_000_000
    assert registry.get_sample_value("kafka_sre_job_progress_ratio", labels) == 0.5
    assert registry.get_sample_value("kafka_sre_job_retries_total", labels) == 2
    assert registry.get_sample_value("kafka_sre_job_errors_total", labels) == 0
    assert registry.get_sample_value("kafka_sre_job_state", {**labels, "state": "running"}) == 1
    now[0] = 105.0
    job.fail(RuntimeError("disk full"), 1)
    assert registry.get_sample_value("kafka_sre_job_state", {**labels, "state": "failed"}) == 1
    assert registry.get_sample_value("kafka_sre_job_state", {**labels, "state": "running"}) == 0
    assert registry.get_sample_value("kafka_sre_job_errors_total", labels) == 1
    assert job.state.subject == "b-1" and job.state.error == "disk full"
