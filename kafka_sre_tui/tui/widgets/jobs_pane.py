"""Jobs started from the dashboard, running and finished, with progress, MB/s, records and ETA; and one
row per workers group writing a set in the backup directory (its fleet, read from the set's durable
state every refresh; Enter shows each worker)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.models import GroupInfo
from kafka_sre_tui.tui.fleet_view import fleet_detail, fleet_state, fleet_text
from kafka_sre_tui.tui.jobs import RUNNING, Job
from kafka_sre_tui.tui.widgets.cells import num

if TYPE_CHECKING:  # the backup engine loads with the first reading of the backup directory
    from kafka_sre_tui.engine.backup.workers_fleet import Fleet
    from kafka_sre_tui.engine.storage.store import Location

FLEET_KEY = "fleet:"  # + the group: a workers group's row (jobs' rows are keyed by their number)
COLUMNS = (("Job", "job"), ("Kind", "kind"), ("Target", "target"), ("State", "state"), ("Progress", "progress"),
           ("MB/s", "mbs"), ("Records", "records"), ("ETA", "eta"), ("Detail", "detail"))


def _bar(fraction: float, width: int = 10) -> str:
    filled = round(max(0.0, min(fraction, 1.0)) * width)
    return f"{'█' * filled}{'░' * (width - filled)} {fraction:4.0%}"


class JobsPane(Vertical):
    def __init__(self, base: Location | None = None, refresh_seconds: float = 5.0) -> None:
        super().__init__(id="jobs-pane")
        # the pane owns its table: refreshes may arrive before it is mounted or after it is gone
        self.table: DataTable[Any] = DataTable(id="jobs-table", cursor_type="row", zebra_stripes=True)
        for label, key in COLUMNS:
            self.table.add_column(label, key=key)
        self.jobs: dict[int, Job] = {}
        self.base, self.refresh_seconds = base, refresh_seconds
        self.fleets: dict[str, Fleet] = {}  # by group, as last read (membership not merged)
        self.members: dict[str, set[str]] = {}  # the active cluster's workers groups: their member ids
        self._reading = False

    def compose(self) -> ComposeResult:
        yield self.table

    def on_mount(self) -> None:
        if self.base is not None:
            self.call_after_refresh(self.reload_fleets)  # after the first frame: reading loads the backup engine
            self.set_interval(self.refresh_seconds, self.reload_fleets)

    @work(group="fleets")
    async def reload_fleets(self) -> None:
        """Read the fleets off the UI's thread (on the engine thread, as the Backups pane lists backups).
        A tick while a reading is still in flight (a slow bucket) is skipped, not a restart of it."""
        if self._reading or self.base is None:
            return
        self._reading = True
        engine = getattr(self.app, "engine", None)
        reading = _running_fleets(self.base)
        try:
            fleets = await (engine.run(reading) if engine is not None else reading)
        except (KsreError, OSError, ValueError):
            return  # the Backups pane says why the directory cannot be read; the last rows stay
        finally:
            self._reading = False
        self.fleets = {f.group or f.set_id: f for f in fleets}
        self.show_fleets()

    def show_groups(self, groups: list[GroupInfo]) -> None:
        """The active cluster's groups: a fleet's workers are marked in or out of their group."""
        from kafka_sre_tui.engine.backup.workers_label import is_workers_group

        self.members = {g.group_id: {m.member_id for m in g.members} for g in groups if is_workers_group(g)}
        self.show_fleets()

    def fleet(self, group: str) -> Fleet:
        from kafka_sre_tui.engine.backup.workers_fleet import with_members

        fleet = self.fleets[group]
        members = self.members.get(group)
        return fleet if members is None else with_members(fleet, members)

    def show_fleets(self) -> None:
        table = self.table
        rows = {FLEET_KEY + group: self.fleet(group) for group in self.fleets}
        for key in [k.value for k in table.rows if k.value and k.value.startswith(FLEET_KEY)]:
            if key not in rows:
                table.remove_row(key)
        existing = {k.value for k in table.rows}
        for key, fleet in rows.items():
            eta = "-" if fleet.eta_seconds is None else f"{fleet.eta_seconds:,.0f} s"
            values = ("fleet", "workers group", f"{fleet.group} → {fleet.set_id}", fleet_state(fleet),
                      _bar(fleet.fraction), num(None if fleet.mb_per_second is None else round(fleet.mb_per_second, 1)),
                      num(fleet.records), eta, fleet_detail(fleet))
            if key in existing:
                for (_label, column), value in zip(COLUMNS, values, strict=True):
                    table.update_cell(key, column, value, update_width=True)
            else:
                table.add_row(*values, key=key)

    @on(DataTable.RowSelected, "#jobs-table")
    def _open_fleet(self, event: DataTable.RowSelected) -> None:
        from kafka_sre_tui.tui.screens.backup_detail import BackupDetail

        key = str(event.row_key.value)
        if key.startswith(FLEET_KEY) and key[len(FLEET_KEY):] in self.fleets:
            self.app.push_screen(BackupDetail(fleet_text(self.fleet(key[len(FLEET_KEY):]))))

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
        return self.jobs.get(int(key)) if key and key.isdigit() else None  # a fleet's row is no job of ours


async def _running_fleets(base: Location) -> list[Fleet]:
    from kafka_sre_tui.engine.backup.workers_fleet import running_fleets

    return await asyncio.to_thread(running_fleets, base, datetime.now(UTC))
