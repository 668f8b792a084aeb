"""Alerts a job run with ``--notify`` sends while it runs, once per change, never once per sample:

- ``migration.lag_above``: a following migration's replication lag went above ``[notify]
  migration_lag_records`` or ``migration_lag_seconds`` (or ``migrate --notify-lag-records/-seconds``);
  ``migration.lag_recovered`` once it is back at or below half of every threshold set (the half keeps a
  lag that hovers around the threshold from sending a pair per sample).
- ``group.at_risk`` / ``group.lost``: a drained or watched group's data-loss verdict (engine/drain/
  data_loss.py) became AT RISK or LOST; LOST after AT RISK is sent too. It may be sent again only after
  the group was SAFE (or had nothing unread) in between; UNKNOWN changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka_sre_tui.engine.drain.data_loss import DataLoss, GroupDataLossSeen, LossStatus
from kafka_sre_tui.engine.drain.lag_time import format_seconds
from kafka_sre_tui.engine.migrate.request import MigrateProgress
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.observe.job import JobState

MAX_PARTITIONS = 20  # partitions listed in a data-loss alert, the most urgent first
_SEVERITY = {LossStatus.AT_RISK: 1, LossStatus.LOST: 2}


@dataclass(frozen=True)
class LagThreshold:
    records: int | None = None
    seconds: float | None = None

    def __bool__(self) -> bool:
        return self.records is not None or self.seconds is not None

    def above(self, records: int, seconds: float) -> bool:
        return (self.records is not None and records > self.records) or (
            self.seconds is not None and seconds > self.seconds)

    def recovered(self, records: int, seconds: float) -> bool:
        return (self.records is None or records <= self.records / 2) and (
            self.seconds is None or seconds <= self.seconds / 2)

    def describe(self) -> str:
        parts = [f"{self.records:,} records" if self.records is not None else "",
                 f"{self.seconds:g} s" if self.seconds is not None else ""]
        return " or ".join(p for p in parts if p)


class JobAlerts:
    """Watches one job's events (``ObservedJob.watchers``) and hands each alert's body to ``send``."""

    def __init__(self, state: JobState, cluster: str | None, send: Callable[[dict[str, Any]], None],
                 lag: LagThreshold = LagThreshold(), now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.state, self.cluster, self.send, self.lag, self.now = state, cluster, send, lag, now
        self._lag_above = False
        self._loss_told: dict[str, int] = {}  # group -> severity already sent

    def event(self, event: object) -> None:
        if isinstance(event, MigrateProgress) and event.following and self.lag:
            self._migration_lag(event.lag_records, event.lag_seconds)
        elif isinstance(event, GroupDataLossSeen):
            self._data_loss(event.group_id, event.losses)

    def _migration_lag(self, records: int, seconds: float) -> None:
        lag = f"replication lag {records:,} records ({format_seconds(seconds)} behind)"
        if not self._lag_above and self.lag.above(records, seconds):
            self._lag_above = True
            self._alert("migration.lag_above", f"migration {self._subject()}: {lag}, above {self.lag.describe()}",
                        records, seconds)
        elif self._lag_above and self.lag.recovered(records, seconds):
            self._lag_above = False
            self._alert("migration.lag_recovered", f"migration {self._subject()}: {lag}, back under "
                        f"{self.lag.describe()}", records, seconds)

    def _alert(self, event: str, message: str, records: int, seconds: float) -> None:
        self.send(self._body(event, message, {
            "lag_records": records, "lag_seconds": round(seconds, 3),
            "threshold_records": self.lag.records, "threshold_seconds": self.lag.seconds}))

    def _data_loss(self, group: str, losses: Mapping[TopicPartition, DataLoss]) -> None:
        statuses = {d.status for d in losses.values()}
        worst = max(statuses, key=lambda s: _SEVERITY.get(s, 0), default=None)
        severity = _SEVERITY.get(worst, 0) if worst else 0
        if worst is None or worst in (LossStatus.SAFE, LossStatus.NONE):
            self._loss_told.pop(group, None)
            return
        if severity <= self._loss_told.get(group, 0):
            return  # told already, or UNKNOWN
        self._loss_told[group] = severity
        urgent = sorted(((tp, d) for tp, d in losses.items() if d.status in _SEVERITY),
                        key=lambda x: (-_SEVERITY[x[1].status], x[1].eta_seconds or 0.0, x[0].topic, x[0].partition))
        lost = sum(d.records_lost for d in losses.values())
        etas = [d.eta_seconds for _tp, d in urgent if d.eta_seconds is not None and d.status == LossStatus.AT_RISK]
        if worst == LossStatus.LOST:
            message = (f"group {group}: {lost:,} records deleted unread on {len(urgent)} partition(s); "
                       f"{urgent[0][1].reason}")
        else:
            soonest = f" in about {format_seconds(min(etas))}" if etas else ""
            message = (f"group {group} AT RISK: retention deletes unread records{soonest} on {len(urgent)} "
                       f"partition(s); {urgent[0][1].reason}")
        self.send(self._body("group.lost" if worst == LossStatus.LOST else "group.at_risk", message, {
            "group": group, "data_loss": worst.value, "records_lost": lost,
            "data_loss_eta_seconds": round(min(etas), 3) if etas else None,
            "partitions": [{"topic": tp.topic, "partition": tp.partition, "data_loss": d.status.value,
                            "data_loss_eta_seconds": None if d.eta_seconds is None else round(d.eta_seconds, 3),
                            "records_lost": d.records_lost, "reason": d.reason}
                           for tp, d in urgent[:MAX_PARTITIONS]]}))

    def _subject(self) -> str:
        return self.state.subject or self.state.job_id

    def _body(self, event: str, message: str, alert: dict[str, Any]) -> dict[str, Any]:
        s = self.state
        return {"event": event, "job_id": s.job_id, "kind": s.kind, "subject": s.subject or None,
                "cluster": self.cluster, "state": s.state, "exit_code": None, "interrupted": False,
                "message": message, "time": self.now().isoformat(), "figures": s.figures(), "alert": alert}
