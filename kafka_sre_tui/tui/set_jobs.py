"""The dashboard's work on backup sets: show a set's chain, verify a set and its chain (and, from the
forms, start a set backup or restore), over the same engine functions as the CLI."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.widgets import DataTable

from kafka_sre_tui.cli.args import backup_location
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.jobs import Retrying
from kafka_sre_tui.tui.job_actions import JobActions
from kafka_sre_tui.tui.jobs import DONE, FAILED, Job
from kafka_sre_tui.tui.messages import JobChanged

if TYPE_CHECKING:
    from kafka_sre_tui.engine.backup.plan import BackupRequest
    from kafka_sre_tui.engine.backup.set_events import LinkSealed, SetProgress, SetResult
    from kafka_sre_tui.engine.backup.set_plan import SetRequest
    from kafka_sre_tui.engine.backup.set_verify import SetVerifyProgress, SetVerifyResult
    from kafka_sre_tui.engine.backup.summary import BackupSummary
    from kafka_sre_tui.engine.restore.set_events import SetRestoreResult
    from kafka_sre_tui.engine.restore.set_request import SetRestoreRequest
    from kafka_sre_tui.engine.storage.store import Location


class SetJobs(JobActions):
    """KsreApp's base for sets; one-topic backups go on to :class:`JobActions`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_stops: dict[int, asyncio.Event] = {}  # a continuous backup's job -> what ends it after a link

    def _start_backup(self, request: BackupRequest | SetRequest | None) -> None:  # type: ignore[override]
        from kafka_sre_tui.engine.backup.set_plan import SetRequest, describe_selection

        if not isinstance(request, SetRequest):
            super()._start_backup(request)
            return
        job = Job("continuous backup" if request.continuous else "backup set",
                  f"{self.cluster.name}: {describe_selection(request)}")
        self._tell_webhooks(job)
        stop = asyncio.Event()
        if request.continuous:
            self.set_stops[job.job_id] = stop
        job.worker = self.run_worker(self._run_set_backup(job, request, stop), group="jobs", exit_on_error=False)
        self._job_changed(job)
        self.action_show_tab("jobs")

    async def _run_set_backup(self, job: Job, request: SetRequest, stop: asyncio.Event) -> None:
        from kafka_sre_tui.engine.backup.set_events import LinkSealed, SetProgress
        from kafka_sre_tui.engine.backup.set_run import backup_set

        sealed: list[LinkSealed] = []

        def emit(event: Any) -> None:
            if isinstance(event, Retrying):
                self.notify(f"{job.kind} {job.target}: {event.describe()}", severity="warning")
                return
            if isinstance(event, LinkSealed):
                sealed.append(event)
                job.metrics = {"links_sealed": len(sealed), "lag_records": event.lag_records,
                               "lag_seconds": event.lag_seconds}
            elif isinstance(event, SetProgress):
                job.fraction, job.records, job.mb_per_second = event.fraction, event.records, event.mb_per_second
                job.eta_seconds = event.eta_seconds
                job.metrics = {**job.metrics, "set_id": event.set_id}
            else:
                return
            job.detail = set_detail(event if isinstance(event, SetProgress) else None, sealed[-1] if sealed else None)
            self.post_message(JobChanged(job))

        def done(result: SetResult) -> None:
            job.fraction = 1.0
            links = f", {len(result.links)} links sealed" if request.continuous else ""
            notes = "".join(f"; {note}" for note in result.notes)
            job.detail = (f"{result.set_id}: {result.manifest.records:,} records of {len(result.manifest.members)} "
                          f"topics{links}{notes}")

        def cancelled() -> str:
            set_id = job.metrics.get("set_id")
            return f"resumable: kafka-sre-tui backup --resume {set_id}" if set_id else "cancelled"

        try:
            await self._supervise(job, self._keyed(lambda key: backup_set(
                self.cluster, dataclasses.replace(request, encryption_key=key), self._on_ui(emit, job),
                stop=stop)), done, cancelled)
        finally:
            self.set_stops.pop(job.job_id, None)
            self.backups_pane.reload()

    def action_cancel_job(self) -> None:
        """``x`` on a continuous backup first asks it to stop after the link in progress (every sealed
        link stays complete); ``x`` again cancels it at once."""
        job = self.jobs_pane.selected()
        stop = self.set_stops.get(job.job_id) if job is not None else None
        if job is None or stop is None or stop.is_set() or not job.active:
            super().action_cancel_job()
            return
        self.engine.loop.call_soon_threadsafe(stop.set)
        job.detail = "stopping after the link in progress (x again: at once)"
        self._job_changed(job)

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
        from kafka_sre_tui.engine.audit import refuse_read_only
        from kafka_sre_tui.tui.screens.set_restore_form import SetRestoreForm

        backup = self.backups_pane.selected()
        if backup is None or not backup.is_set:
            super().action_restore_backup()
            return
        if backup.status != "complete":
            self.notify("select a complete backup on the Backups tab first", severity="warning")
            return
        try:
            refuse_read_only(self.cluster.read_only, self.cluster.name, self.cluster.source, "restore_set",
                             "restore into", "pick another cluster", parameters={"set_id": backup.backup_id})
        except KsreError as exc:
            self.notify(str(exc), title="Restore refused", severity="error", timeout=15)
            return
        self.push_screen(SetRestoreForm(backup_location(None, self.config.backup), backup.backup_id,
                                        self.cluster.name), self._set_restore_chosen)

    @work(group="restore-preflight")
    async def _set_restore_chosen(self, request: SetRestoreRequest | None) -> None:
        """A resume is confirmed by typing the cluster's name; anything else runs its dry run first (a
        ``--dry-run`` request stops at the preflight)."""
        from kafka_sre_tui.engine.restore.set_restore import restore_set
        from kafka_sre_tui.tui.screens.migrate_form import TypeToConfirm
        from kafka_sre_tui.tui.screens.set_restore_form import SetPreflightScreen

        if request is None:
            return
        if request.resume:
            question = (f"Resume the restore of backup set {request.set_id} into cluster {self.cluster.name}: the "
                        "rest of its records are written.")
            if await self.push_screen_wait(TypeToConfirm(question, self.cluster.name)):
                self._start_set_restore(request)
            return
        self.notify(f"checking the restore of {request.set_id} (every link, every topic)…")
        try:
            result = await self.engine.run(self._keyed(lambda key: restore_set(
                self.cluster, dataclasses.replace(request, dry_run=True, encryption_key=key))))
        except KsreError as exc:
            self.notify(str(exc), title="Restore refused", severity="error", timeout=15)
            return
        if result.preflight is not None and await self.push_screen_wait(
                SetPreflightScreen(result.preflight, check_only=request.dry_run)):
            self._start_set_restore(request)

    def _start_set_restore(self, request: SetRestoreRequest) -> None:
        where = f"{request.topic_prefix}*" if request.topic_prefix else "same names"
        job = Job("restore set", f"{request.set_id} → {self.cluster.name} ({where})")
        self._tell_webhooks(job)
        job.worker = self.run_worker(self._run_set_restore(job, request), group="jobs", exit_on_error=False)
        self._job_changed(job)
        self.action_show_tab("jobs")

    async def _run_set_restore(self, job: Job, request: SetRestoreRequest) -> None:
        from kafka_sre_tui.engine.restore.set_events import SetRestoreProgress
        from kafka_sre_tui.engine.restore.set_restore import restore_set

        def emit(event: object) -> None:
            if isinstance(event, SetRestoreProgress):
                job.records, job.mb_per_second = event.records, event.mb_per_second
                job.fraction, job.eta_seconds = event.fraction, event.eta_seconds
                job.detail = (f"topics {event.topics_done}/{event.topics_total} done · {event.topic} "
                              f"{event.topic_fraction:.0%}")
                self.post_message(JobChanged(job))

        def done(result: SetRestoreResult) -> None:
            written = result.metrics.messages if result.metrics else 0
            missed = result.groups_not_committed
            job.fraction = 1.0
            names = ", ".join(f"{g.commit.group} ({g.topic})" for g in missed)
            job.detail = f"{written:,} records written into {len(result.topics)} topics" + (
                f"; groups not committed: {names}" if missed else "")
            job.metrics = dataclasses.asdict(result.metrics) if result.metrics else {}

        await self._supervise(job, self._keyed(lambda key: restore_set(
            self.cluster, dataclasses.replace(request, encryption_key=key), self._on_ui(emit, job))), done,
                              lambda: "resumable: R again with Resume (Advanced), or kafka-sre-tui restore --resume")

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
    from kafka_sre_tui.engine.backup.workers_fleet import fleet_of_set
    from kafka_sre_tui.engine.storage.manifest import read_manifest
    from kafka_sre_tui.tui.fleet_view import fleet_text
    from kafka_sre_tui.tui.screens.backup_detail import backup_text, set_text

    if backup.is_set:
        fleet = await asyncio.to_thread(fleet_of_set, base, backup.backup_id, datetime.now(UTC))
        if fleet is not None:  # a workers group still writes it: each worker's progress
            return fleet_text(fleet)
        return set_text(await asyncio.to_thread(show_set, base, backup.backup_id))
    manifest, intact = await asyncio.to_thread(read_manifest, find_backup(base, backup.backup_id))
    return backup_text(manifest, intact)


def set_detail(progress: SetProgress | None, sealed: LinkSealed | None) -> str:
    """The Jobs pane's detail for a set backup: the last sealed link and its lag behind the topics' end
    (continuous), then the topics still being read, with how far each is."""
    parts = []
    if sealed is not None:
        parts.append(f"link {sealed.link} sealed · lag {sealed.lag_records:,} records, {sealed.lag_seconds:,.1f} s")
    if progress is not None:
        left = [t for t in progress.topics if not t.done]
        parts.append(f"{progress.set_id} · topics {len(progress.topics) - len(left)}/{len(progress.topics)} done")
        parts += [f"{t.topic} {t.offsets_done / t.offsets_total:.0%}" for t in left[:3] if t.offsets_total]
    return " · ".join(parts)
