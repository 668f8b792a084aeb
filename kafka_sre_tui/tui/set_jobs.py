"""The dashboard's work on backup sets: show a set's chain, verify a set and its chain (and, from the
forms, start a set backup or restore), over the same engine functions as the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.widgets import DataTable

from kafka_sre_tui.cli.args import backup_location
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.tui.job_actions import JobActions
from kafka_sre_tui.tui.jobs import DONE, FAILED, Job
from kafka_sre_tui.tui.messages import JobChanged

if TYPE_CHECKING:
    from kafka_sre_tui.engine.backup.set_verify import SetVerifyProgress, SetVerifyResult
    from kafka_sre_tui.engine.backup.summary import BackupSummary
    from kafka_sre_tui.engine.storage.store import Location


class SetJobs(JobActions):
    """KsreApp's base for sets; one-topic backups go on to :class:`JobActions`."""

    def action_verify_backup(self) -> None:
        backup = self.backups_pane.selected()
        if backup is None or not backup.is_set:
            super().action_verify_backup()
            return
        job = Job("verify", backup.backup_id)
        job.worker = self.run_worker(self._run_set_verify(job, backup.backup_id), group="jobs", exit_on_error=False)
        self._job_changed(job)

    async def _run_set_verify(self, job: Job, set_id: str) -> None:
        from kafka_sre_tui.engine.backup.set_verify import verify_set

        def emit(p: SetVerifyProgress) -> None:
            job.fraction, job.records, job.mb_per_second = p.fraction, p.records, p.mb_per_second
            job.eta_seconds, job.detail = p.eta_seconds, f"link {p.link} · {p.topic}"
            self.post_message(JobChanged(job))

        def done(result: SetVerifyResult) -> None:
            job.fraction, job.records = 1.0, result.records
            job.mb_per_second = result.bytes_checked / 1e6 / result.seconds if result.seconds else 0.0
            job.state = DONE if result.intact else FAILED
            job.detail = (f"intact: {len(result.links)} link(s), {result.members} member backups" if result.intact
                          else "; ".join(d.describe() for d in result.damage))

        base = backup_location(None, self.config.backup)
        await self._supervise(job, self._keyed(lambda key: verify_set(base, set_id, key, True,
                                                                      self._on_ui(emit, job))),
                              done, lambda: "cancelled")

    def action_restore_backup(self) -> None:
        backup = self.backups_pane.selected()
        if backup is None or not backup.is_set:
            super().action_restore_backup()
            return
        self.notify(f"{backup.backup_id} is a backup set: restore it with kafka-sre-tui restore --backup-id "
                    f"{backup.backup_id} (the dashboard's restore form takes one-topic backups)",
                    title="Restore", severity="warning", timeout=15)

    @on(DataTable.RowSelected, "#backups-table")
    def _open_backup(self, event: DataTable.RowSelected) -> None:
        backup = next((b for b in self.backups_pane.backups if b.backup_id == event.row_key.value), None)
        if backup is not None:
            self.show_backup(backup)

    @work(group="backup-detail")
    async def show_backup(self, backup: BackupSummary) -> None:
        """The set's chain and coverage, or the backup's partitions (read off the UI's thread)."""
        from kafka_sre_tui.tui.screens.backup_detail import BackupDetail

        try:
            text = await self.engine.run(_detail_text(backup_location(None, self.config.backup), backup))
        except (KsreError, ValueError) as exc:  # a manifest that cannot be read is a ValueError
            self.notify(str(exc), title="Backup", severity="error", timeout=15)
            return
        self.push_screen(BackupDetail(text))


async def _detail_text(base: Location, backup: BackupSummary) -> str:
    import asyncio

    from kafka_sre_tui.engine.backup.catalog import find_backup
    from kafka_sre_tui.engine.backup.set_catalog import show_set
    from kafka_sre_tui.engine.storage.manifest import read_manifest
    from kafka_sre_tui.tui.screens.backup_detail import backup_text, set_text

    if backup.is_set:
        return set_text(await asyncio.to_thread(show_set, base, backup.backup_id))
    manifest, intact = await asyncio.to_thread(read_manifest, find_backup(base, backup.backup_id))
    return backup_text(manifest, intact)
