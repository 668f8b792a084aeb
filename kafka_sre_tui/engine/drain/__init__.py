"""Lag engine and drain monitor: rates, lag in time, status, ETA, drain strategies.

Pure logic (samples, fit, lag_time, status, eta, strategy, tracker, assessment) has no Kafka and
no I/O; the Kafka side is sampler.py, timestamps.py and monitor.py, loaded on first use of a monitor name
so the dashboard's groups table (pure logic) does not wait for the Kafka client.
"""

from typing import TYPE_CHECKING, Any

from kafka_sre_tui.engine.drain.assessment import Assessment, Outcome, PartitionView, assessment_json
from kafka_sre_tui.engine.drain.status import Status
from kafka_sre_tui.engine.drain.strategy import DrainGoal
from kafka_sre_tui.engine.drain.tracker import DrainTracker, TrackerSettings

if TYPE_CHECKING:
    from kafka_sre_tui.engine.drain.monitor import MonitorResult, MonitorSettings, SampleFailed, monitor_group

_MONITOR_NAMES = ("MonitorResult", "MonitorSettings", "SampleFailed", "monitor_group")

__all__ = ["Assessment", "DrainGoal", "DrainTracker", "MonitorResult", "MonitorSettings", "Outcome",
           "PartitionView", "SampleFailed", "Status", "TrackerSettings", "assessment_json", "monitor_group"]


def __getattr__(name: str) -> Any:
    if name in _MONITOR_NAMES:
        from kafka_sre_tui.engine.drain import monitor

        return getattr(monitor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
