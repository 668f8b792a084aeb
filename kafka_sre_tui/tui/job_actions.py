"""The dashboard's jobs: backups, verifies, restores, migrations and drain monitors started from it.

Each runs as a worker on the App (so switching screens never cancels it) and reports through
messages; the engine does the work, this only adapts its events to the Jobs pane.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from textual import work
from textual.app import App
from textual.widgets import TabbedContent

from kafka_sre_tui.config import AppConfig, ClusterConfig, UiSettings
from kafka_sre_tui.engine.backup import BackupProgress, BackupResult, backup_topic
from kafka_sre_tui.engine.backup_plan import BackupRequest
from kafka_sre_tui.engine.backups import verify
from kafka_sre_tui.engine.cluster import list_topics
from kafka_sre_tui.engine.connection import KafkaSession
from kafka_sre_tui.engine.drain import Assessment, DrainGoal, MonitorResult, MonitorSettings, Outcome, monitor_group
from kafka_sre_tui.engine.errors import ConfigError, KsreError
from kafka_sre_tui.engine.migrate.request import MigrateProgress, MigrateRequest, MigrateResult
from kafka_sre_tui.engine.migrate.run import migrate
from kafka_sre_tui.engine.restore import restore_backup
from kafka_sre_tui.engine.restore_events import RestoreProgress, RestoreResult
from kafka_sre_tui.engine.restore_plan import RestoreRequest
from kafka_sre_tui.engine.storage.verify import VerifyResult
from kafka_sre_tui.tui.jobs import CANCELLED, DONE, FAILED, Job
from kafka_sre_tui.tui.messages import (
    DrainSampled,
    JobChanged,
)
from kafka_sre_tui.tui.refresh import Refresher
from kafka_sre_tui.tui.screens.backup_form import BackupForm
from kafka_sre_tui.tui.screens.drain import DrainScreen
from kafka_sre_tui.tui.screens.migrate_form import MigrateForm, TypeToConfirm
from kafka_sre_tui.tui.screens.restore_form import PreflightScreen, RestoreForm
from kafka_sre_tui.tui.widgets.backups_pane import BackupsPane
from kafka_sre_tui.tui.widgets.groups_pane import GroupsPane
from kafka_sre_tui.tui.widgets.jobs_pane import JobsPane
from kafka_sre_tui.tui.widgets.topics_pane import TopicsPane

T = TypeVar("T")


class JobActions(App[None]):
    """KsreApp's base: the actions that start, follow and cancel jobs."""

    # provided by KsreApp
    cluster: ClusterConfig
    config: AppConfig
    ui: UiSettings
    refresher: Refresher
    tabs: TabbedContent
    topics_pane: TopicsPane
    groups_pane: GroupsPane
    jobs_pane: JobsPane
    backups_pane: BackupsPane
    action_show_tab: Callable[[str], None]

    def action_new_backup(self) -> None:
        topic = ""
        if self.tabs.active == "topics":
            table = self.topics_pane.table
            if table.row_count:
                topic = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        self.push_screen(BackupForm(topic, self.config.backup), self._start_backup)

    def _start_backup(self, request: BackupRequest | None) -> None:
        if request is None:
            return
        job = Job("backup", f"{self.cluster.name}/{request.topic}")
        job.worker = self.run_worker(self._run_backup(job, request), group="jobs", exit_on_error=False)
        self._job_changed(job)
        self.action_show_tab("jobs")

    async def _run_backup(self, job: Job, request: BackupRequest) -> None:
        def emit(p: BackupProgress) -> None:
            job.detail, job.fraction, job.records = p.backup_id, p.fraction, p.records
            job.mb_per_second, job.eta_seconds = p.mb_per_second, p.eta_seconds
            self.post_message(JobChanged(job))

        def done(result: BackupResult) -> None:
            job.fraction, job.detail = 1.0, result.backup_id
            job.metrics = result.metrics.__dict__
            job.mb_per_second = result.metrics.throughput_mb_s

        def cancelled() -> str:
            return f"resumable: kafka-sre-tui backup --resume {job.detail}" if job.detail else "cancelled"

        try:
            await self._supervise(job, backup_topic(self.cluster, request, emit), done, cancelled)
        finally:
            self.backups_pane.reload()

    def action_drain_group(self, group_id: str | None = None) -> None:
        group = group_id or self.groups_pane.selected()
        if group is None:
            self.notify("select a consumer group first (g)", severity="warning")
            return
        target = 0
        job = Job("drain", group)
        screen = DrainScreen(job.job_id, group, target)
        job.worker = self.run_worker(self._run_drain(job, group, target), group="jobs", exit_on_error=False)
        self._job_changed(job)
        self.push_screen(screen)

    async def _run_drain(self, job: Job, group_id: str, target: int) -> None:
        initial: list[int] = []
        stalled_told = False

        def emit(event: object) -> None:
            nonlocal stalled_told
            if not isinstance(event, Assessment):
                return
            if not initial:
                initial.append(event.total_lag)
            job.records, job.eta_seconds = event.total_lag, event.eta.seconds
            job.fraction = 1 - event.total_lag / initial[0] if initial[0] else 1.0
            job.detail = f"{event.status.value}: {event.reason}"
            if event.status.value == "STALLED" and not stalled_told:
                stalled_told = True
                self.notify(f"group {group_id} is STALLED: {event.reason}", severity="error", timeout=10)
                self.bell()
            self.post_message(DrainSampled(job, event))

        async def watch() -> MonitorResult:
            session = await self.refresher.session()
            goal = DrainGoal(max_lag=target, stop_when_stalled=False)
            interval = max(1.0, min(self.ui.refresh_seconds, 5.0))
            return await monitor_group(session, group_id, emit, goal=goal,
                                       settings=MonitorSettings(interval_seconds=interval))

        def done(result: MonitorResult) -> None:
            drained = result.outcome == Outcome.DRAINED
            job.state = DONE if drained else FAILED
            job.fraction = 1.0 if drained else job.fraction
            job.detail = result.reason

        await self._supervise(job, watch(), done, lambda: "stopped")

    def on_drain_sampled(self, message: DrainSampled) -> None:
        self.jobs_pane.update_job(message.job)
        for screen in self.screen_stack:
            if isinstance(screen, DrainScreen) and screen.job_id == message.job.job_id:
                screen.show(message.assessment)

    def action_verify_backup(self) -> None:
        backup = self.backups_pane.selected()
        if backup is None:
            self.notify("select a backup on the Backups tab first", severity="warning")
            return
        job = Job("verify", backup.backup_id)
        job.worker = self.run_worker(self._run_verify(job, backup.backup_id), group="jobs", exit_on_error=False)
        self._job_changed(job)

    async def _run_verify(self, job: Job, backup_id: str) -> None:
        def done(result: VerifyResult) -> None:
            job.fraction, job.records = 1.0, result.records
            job.mb_per_second = result.bytes_checked / 1e6 / result.seconds if result.seconds else 0.0
            job.state = DONE if result.intact else FAILED
            job.detail = "intact" if result.intact else "; ".join(d.describe(backup_id) for d in result.damage)

        await self._supervise(job, verify(self.config.backup.base_path.expanduser(), backup_id), done,
                              lambda: "cancelled")

    def action_restore_backup(self) -> None:
        backup = self.backups_pane.selected()
        if backup is None or backup.status != "complete":
            self.notify("select a complete backup on the Backups tab first", severity="warning")
            return
        if self.cluster.read_only:
            self.notify(f"cluster {self.cluster.name} is read-only: restore is disabled here", severity="error")
            return
        self.push_screen(RestoreForm(self.config.backup.base_path.expanduser(), backup.backup_id, backup.topic,
                                     self.cluster.name), self._dry_run)

    @work(group="restore-preflight")
    async def _dry_run(self, request: RestoreRequest | None) -> None:
        if request is None:
            return
        self.notify(f"checking the restore of {request.backup_id} (verify + preflight)…")
        try:
            result = await restore_backup(self.cluster, request)
        except KsreError as exc:
            self.notify(str(exc), title="Restore refused", severity="error", timeout=15)
            return
        if result.preflight is None:
            return
        if await self.push_screen_wait(PreflightScreen(result.preflight)):
            self._start_restore(dataclasses.replace(request, dry_run=False, create_topic=result.preflight.create))

    def _start_restore(self, request: RestoreRequest) -> None:
        job = Job("restore", f"{request.backup_id} → {self.cluster.name}/{request.target_topic}")
        job.worker = self.run_worker(self._run_restore(job, request), group="jobs", exit_on_error=False)
        self._job_changed(job)
        self.action_show_tab("jobs")

    async def _run_restore(self, job: Job, request: RestoreRequest) -> None:
        def emit(event: object) -> None:
            if isinstance(event, RestoreProgress):
                job.records, job.mb_per_second = event.records, event.mb_per_second
                job.fraction, job.eta_seconds = event.fraction, event.eta_seconds
                self.post_message(JobChanged(job))

        def done(result: RestoreResult) -> None:
            written = result.metrics.messages if result.metrics else 0
            job.fraction, job.detail = 1.0, f"{written:,} records written" + _uncommitted(result.groups_not_committed)

        await self._supervise(job, restore_backup(self.cluster, request, emit), done,
                              lambda: "resumable: kafka-sre-tui restore --resume (same options)")

    def action_migrate_topic(self) -> None:
        table = self.topics_pane.table
        if self.tabs.active != "topics" or not table.row_count:
            self.notify("select a topic on the Topics tab first (t)", severity="warning")
            return
        topic = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        names = [self.cluster.name, *(n for n in self.config.clusters if n != self.cluster.name)]
        self.push_screen(MigrateForm(topic, self.cluster.name, names), self._check_migration)

    @work(group="migrate-check")
    async def _check_migration(self, answer: tuple[str, MigrateRequest] | None) -> None:
        if answer is None:
            return
        name, request = answer
        try:
            target = self.cluster if name == self.cluster.name else self.config.cluster(name)
            if target.read_only:
                raise ConfigError(f"cluster {name} is read-only: migrating into it is disabled")
            async with KafkaSession(target) as session:
                existing = {t.name for t in await list_topics(session, with_offsets=False)}
        except KsreError as exc:
            self.notify(str(exc), title="Migration refused", severity="error", timeout=15)
            return
        if request.target in existing:
            question = f"Topic {name}/{request.target} already exists; the migration writes into it."
            if not await self.push_screen_wait(TypeToConfirm(question, request.target)):
                return
            request = dataclasses.replace(request, create_topic=False)
        job = Job("migrate", f"{self.cluster.name}/{request.source_topic} → {name}/{request.target}")
        job.worker = self.run_worker(self._run_migration(job, target, request), group="jobs", exit_on_error=False)
        self._job_changed(job)
        self.action_show_tab("jobs")

    async def _run_migration(self, job: Job, target: ClusterConfig, request: MigrateRequest) -> None:
        def emit(event: object) -> None:
            if isinstance(event, MigrateProgress):
                job.records, job.mb_per_second = event.records, event.mb_per_second
                total = event.records + event.lag_records
                job.fraction = event.records / total if total else 1.0
                job.eta_seconds = event.lag_records / event.records_per_second if event.records_per_second else None
                job.detail = f"replication lag {event.lag_records:,} records, {event.lag_seconds:,.1f} s"
                self.post_message(JobChanged(job))

        def done(result: MigrateResult) -> None:
            job.fraction = 1.0
            job.detail = f"{result.metrics.records:,} records copied" + _uncommitted(result.groups_not_committed)

        await self._supervise(job, migrate(self.cluster, target, request, emit), done,
                              lambda: "resumable: run the same migration again")

    async def _supervise(self, job: Job, work: Awaitable[T], done: Callable[[T], None],
                         cancelled: Callable[[], str]) -> None:
        """What every job shares: run the engine call; ``done`` fills in the result (and may still call
        it a failure); a typed error is the failure in words; a cancel leaves the job marked resumable."""
        try:
            result = await work
        except asyncio.CancelledError:
            job.state, job.detail = CANCELLED, cancelled()
            self._job_changed(job)
            raise
        except KsreError as exc:
            job.state, job.detail = FAILED, str(exc)
        else:
            job.state = DONE
            done(result)
        self._job_changed(job)

    def action_cancel_job(self) -> None:
        job = self.jobs_pane.selected()
        if job is not None and job.active and job.worker is not None:
            job.worker.cancel()

    def on_job_changed(self, message: JobChanged) -> None:
        self.jobs_pane.update_job(message.job)

    def _job_changed(self, job: Job) -> None:
        self.jobs_pane.update_job(job)
        if job.state in (DONE, FAILED):
            self.notify(f"{job.kind} {job.target}: {job.state}. {job.detail}",
                        severity="information" if job.state == DONE else "error")
            self.bell()


def _uncommitted(groups: Sequence[Any]) -> str:
    return f"; groups not committed: {', '.join(g.group_id for g in groups)}" if groups else ""
