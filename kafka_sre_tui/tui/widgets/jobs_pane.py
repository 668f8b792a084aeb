"""Jobs started from the dashboard, running and finished, with progress, MB/s, records and ETA."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from kafka_sre_tui.tui.jobs import RUNNING, Job
from kafka_sre_tui.tui.widgets.cells import num

COLUMNS = (("Job", "job"), ("Kind", "kind"), ("Target", "target"), ("State", "state"), ("Progress", "progress"),
           ("MB/s", "mbs"), ("Records", "records"), ("ETA", "eta"), ("Detail", "detail"))


def _bar(fraction: float, width: int = 10) -> str:
    filled = round(max(0.0, min(fraction, 1.0)) * width)
    return f"{'█' * filled}{'░' * (width - filled)} {fraction:4.0%}"


class JobsPane(Vertical):
    def __init__(self) -> None:
        super().__init__(id="jobs-pane")
        # the pane owns its table: refreshes may arrive before it is mounted or after it is gone
        self.table: DataTable[Any] = DataTable(id="jobs-table", cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            self.table.add_column(label, key=key)
        self.jobs: dict[int, Job] = {}

    def compose(self) -> ComposeResult:
        yield self.table


    def update_job(self, job: Job) -> None:
        self.jobs[job.job_id] = job
        eta = f"{job.eta_seconds:,.0f} s" if job.eta_seconds is not None and job.state == RUNNING else "-"
        values = (str(job.job_id), job.kind, job.target, job.state, _bar(job.fraction),
                  num(round(job.mb_per_second, 1)), num(job.records), eta, job.detail)
        table = self.table
        key = str(job.job_id)
        if key in {k.value for k in table.rows}:
            for (_label, column), value in zip(COLUMNS, values, strict=True):
                table.update_cell(key, column, value)
        else:
            table.add_row(*values, key=key)

    def selected(self) -> Job | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.jobs.get(int(key)) if key else None
