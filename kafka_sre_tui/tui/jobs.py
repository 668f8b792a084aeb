"""Jobs started from the dashboard: what the Jobs pane shows about each engine run."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from kafka_sre_tui.observe.job import ObservedJob

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"
_ids = itertools.count(1)


@dataclass
class Job:
    kind: str  # backup, verify, ...
    target: str
    job_id: int = field(default_factory=lambda: next(_ids))
    state: str = RUNNING
    fraction: float = 0.0
    records: int = 0
    mb_per_second: float = 0.0
    eta_seconds: float | None = None
    detail: str = ""  # the backup id, the error in words, the result
    metrics: dict[str, Any] = field(default_factory=dict)
    worker: Any = None  # the Textual worker running it
    observed: ObservedJob = field(init=False, repr=False, compare=False)  # its log lines and metrics, as a CLI run has

    def __post_init__(self) -> None:
        self.observed = ObservedJob(self.kind, {"target": self.target, "started_from": "dashboard"})
        self.observed.start()

    @property
    def active(self) -> bool:
        return self.state == RUNNING
