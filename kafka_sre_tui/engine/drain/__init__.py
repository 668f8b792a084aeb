"""Lag engine and drain monitor: rates, lag in time, status, ETA, drain strategies.

Pure logic (samples, fit, lag_time, status, eta, strategy, tracker, assessment) has no Kafka and
no I/O; the Kafka side is sampler.py, timestamps.py and monitor.py.
"""

from kafka_sre_tui.engine.drain.assessment import Assessment, Outcome, PartitionView, assessment_json
from kafka_sre_tui.engine.drain.monitor import MonitorResult, MonitorSettings, SampleFailed, monitor_group
from kafka_sre_tui.engine.drain.status import Status
from kafka_sre_tui.engine.drain.strategy import DrainGoal
from kafka_sre_tui.engine.drain.tracker import DrainTracker, TrackerSettings

__all__ = ["Assessment", "DrainGoal", "DrainTracker", "MonitorResult", "MonitorSettings", "Outcome",
           "PartitionView", "SampleFailed", "Status", "TrackerSettings", "assessment_json", "monitor_group"]
