"""One headless job as observers see it: an id, a state, its latest figures, and its log lines.

The command line opens an :class:`ObservedJob` around backup, restore, migrate, drain and
``lag --watch``; the job's progress events arrive through :mod:`observe.tap`. It logs the start
(kind, options), the figures at most every ``log_every_seconds`` and at the end, and an error in
one line, every line carrying the job id. Metrics and notifications read :attr:`state`.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from kafka_sre_tui.engine.drain.assessment import Assessment
from kafka_sre_tui.engine.jobs import Checkpointed, Progress, Retrying

RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "running", "succeeded", "failed", "interrupted"
STATES = (RUNNING, SUCCEEDED, FAILED, INTERRUPTED)
_log = logging.getLogger("kafka_sre_tui.job")


@dataclass
class JobState:
    kind: str  # backup, restore, migrate, drain, watch
    job_id: str
    started_at: float  # epoch seconds
    state: str = RUNNING
    subject: str = ""  # the backup id, target topic or group the job works on
    records: int = 0
    bytes: int = 0
    elapsed_seconds: float = 0.0
    fraction: float | None = None  # of the work planned; None when open-ended
    errors: int = 0  # the job's own failure
    retries: int = 0  # the cluster lost and tried again (backup, restore, migrate); samples that failed (drain)
    last_progress_at: float | None = None
    last_checkpoint_at: float | None = None  # when the job last made its progress durable
    migration_lag_records: int | None = None
    migration_lag_seconds: float | None = None
    assessment: Assessment | None = None
    outcome: str | None = None  # drained, stalled, timed_out (drain); the exit code's meaning otherwise
    error: str | None = None
    exit_code: int | None = None

    @property
    def bytes_per_second(self) -> float:
        return self.bytes / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def records_per_second(self) -> float:
        return self.records / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = {"records": self.records, "bytes": self.bytes,
                               "elapsed_seconds": round(self.elapsed_seconds, 3),
                               "mb_per_second": round(self.bytes_per_second / 1e6, 2),
                               "records_per_second": round(self.records_per_second, 1)}
        if self.fraction is not None:
            out["progress_percent"] = round(self.fraction * 100, 1)
        if self.migration_lag_records is not None:
            out |= {"replication_lag_records": self.migration_lag_records,
                    "replication_lag_seconds": round(self.migration_lag_seconds or 0.0, 3)}
        if self.assessment is not None:
            a = self.assessment
            out |= {"group_id": a.group_id, "status": a.status.value, "total_lag": a.total_lag,
                    "lag_seconds": round(a.lag_time.seconds, 3) if a.lag_time else None, "eta": a.eta.describe()}
        return out


@dataclass
class ObservedJob:
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)
    log_every_seconds: float = 10.0
    clock: Callable[[], float] = time.time
    on_end: list[Callable[[JobState], None]] = field(default_factory=list)
    watchers: list[Callable[[object], None]] = field(default_factory=list)  # every event, after the state (alerts)

    def __post_init__(self) -> None:
        self.state = JobState(self.kind, f"{self.kind}-{uuid.uuid4().hex[:8]}", self.clock())
        self._last_log = 0.0

    def start(self) -> None:
        self._info("job started", kind=self.kind, options=dict(self.options))

    def event(self, event: object) -> None:
        self._update(event)
        for watcher in self.watchers:
            try:
                watcher(event)
            except Exception:  # an alert's bug must not fail the job
                _log.exception("job watcher failed on %s", type(event).__name__, extra=self._fields())

    def _update(self, event: object) -> None:
        s = self.state
        if isinstance(event, Progress):
            s.records, s.bytes, s.elapsed_seconds, s.fraction = (event.records, event.bytes, event.elapsed_seconds,
                                                                  event.fraction)
            s.subject = getattr(event, "backup_id", s.subject)
        elif _is(event, "kafka_sre_tui.engine.migrate.request", "MigrateProgress"):
            s.records, s.bytes, s.elapsed_seconds = event.records, event.bytes_written, event.elapsed_seconds
            s.migration_lag_records, s.migration_lag_seconds = event.lag_records, event.lag_seconds
            s.fraction = None if event.following else event.partitions_done / max(event.partitions_total, 1)
        elif _is(event, "kafka_sre_tui.engine.migrate.request", "MigrateStarted"):
            s.subject = f"{event.source} -> {event.target}"
            return
        elif isinstance(event, Assessment):
            s.assessment, s.subject = event, event.group_id
            s.elapsed_seconds = event.elapsed
            s.outcome = event.outcome.value if event.outcome else s.outcome
        elif _is(event, "kafka_sre_tui.engine.drain.monitor", "SampleFailed"):
            s.retries += 1
            _log.warning("sample failed, retrying: %s", event.error, extra=self._fields())
            return
        elif isinstance(event, Retrying):
            s.retries += 1
            _log.warning("cluster away: %s", event.describe(), extra=self._fields())
            return
        elif isinstance(event, Checkpointed):
            s.last_checkpoint_at = self.clock()
            return
        else:
            return
        s.last_progress_at = self.clock()
        if s.last_progress_at - self._last_log >= self.log_every_seconds:
            self._last_log = s.last_progress_at
            self._info("progress", **s.figures())

    def end(self, exit_code: int) -> None:
        s = self.state
        s.exit_code = exit_code
        s.state = SUCCEEDED if exit_code == 0 else FAILED
        s.elapsed_seconds = max(s.elapsed_seconds, self.clock() - s.started_at)
        level = logging.INFO if exit_code == 0 else logging.ERROR
        _log.log(level, "job ended", extra=self._fields(exit_code=exit_code, state=s.state, outcome=s.outcome,
                                                        duration_seconds=round(self.clock() - s.started_at, 3),
                                                        **s.figures()))
        self._ended()

    def fail(self, error: BaseException, exit_code: int) -> None:
        s = self.state
        s.exit_code, s.errors = exit_code, s.errors + 1
        s.state = INTERRUPTED if isinstance(error, KeyboardInterrupt) else FAILED
        s.error = str(error).splitlines()[0] if str(error) else type(error).__name__
        _log.error("job %s: %s", s.state, s.error, exc_info=_log.isEnabledFor(logging.DEBUG),
                   extra=self._fields(exit_code=exit_code, state=s.state,
                                      duration_seconds=round(self.clock() - s.started_at, 3), **s.figures()))
        self._ended()

    def _ended(self) -> None:
        for callback in self.on_end:
            try:
                callback(self.state)
            except Exception:
                _log.exception("job end observer failed", extra=self._fields())

    def _info(self, message: str, **fields: Any) -> None:
        _log.info(message, extra=self._fields(**fields))

    def _fields(self, **more: Any) -> dict[str, Any]:
        subject = {"subject": self.state.subject} if self.state.subject else {}
        return {"fields": {"job_id": self.state.job_id, "job": self.kind, **subject, **more}}


def _is(event: object, module: str, name: str) -> TypeGuard[Any]:
    """``isinstance(event, module.name)`` without importing ``module``: an event of a class from a module
    never loaded cannot be one (the dashboard imports this before its first frame; migrate and the drain
    monitor load with their first job)."""
    found = sys.modules.get(module)
    return found is not None and isinstance(event, getattr(found, name))
