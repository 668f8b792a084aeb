"""The dashboard's jobs: backups, verifies, restores, migrations, replays and drain monitors started from it.

Each runs as a worker on the App (so switching screens never cancels it) and reports through
messages; the engine does the work, this only adapts its events to the Jobs pane.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.widgets import TabbedContent

from kafka_sre_tui.cli.args import backup_location, encryption_key
from kafka_sre_tui.config import AppConfig, ClusterConfig, UiSettings
from kafka_sre_tui.engine.audit import refuse_read_only
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.jobs import Checkpointed, Progress, Retrying
from kafka_sre_tui.engine.models import TopicPartition
from kafka_sre_tui.tui.engine_thread import EngineThread
from kafka_sre_tui.tui.jobs import CANCELLED, DONE, FAILED, Job
from kafka_sre_tui.tui.messages import (
    DrainSampled,
    JobChanged,
)
from kafka_sre_tui.tui.refresh import Refresher
from kafka_sre_tui.tui.widgets.backups_pane import BackupsPane
from kafka_sre_tui.tui.widgets.groups_pane import GroupsPane
from kafka_sre_tui.tui.widgets.jobs_pane import JobsPane
from kafka_sre_tui.tui.widgets.topics_pane import TopicsPane

if TYPE_CHECKING:  # the engine and the forms load when a job starts, not before the first frame
    from kafka_sre_tui.engine.backup.plan import BackupRequest
    from kafka_sre_tui.engine.backup.run import BackupProgress, BackupResult
    from kafka_sre_tui.engine.drain import Assessment, MonitorResult
    from kafka_sre_tui.engine.drain.data_loss import DataLoss
    from kafka_sre_tui.engine.drain.stuck import StuckRecord
    from kafka_sre_tui.engine.migrate.request import MigrateRequest, MigrateResult
    from kafka_sre_tui.engine.migrate.verify import VerifyResult as MigrateVerify
    from kafka_sre_tui.engine.replay.run import ReplayRequest, ReplayResult
    from kafka_sre_tui.engine.restore.events import RestoreResult
    from kafka_sre_tui.engine.restore.plan import RestoreRequest
    from kafka_sre_tui.engine.storage.encryption import EncryptionKey
    from kafka_sre_tui.engine.storage.verify import VerifyResult
    from kafka_sre_tui.tui.screens.drain_form import DrainChoice
    from kafka_sre_tui.tui.screens.migrate_form import MigrateChoice
    from kafka_sre_tui.tui.screens.replay_form import ReplayChoice

T = TypeVar("T")
_log = logging.getLogger(__name__)
E = TypeVar("E")


class JobActions(App[None]):
    """KsreApp's base: the actions that start, follow and cancel jobs."""

    BINDINGS = [Binding("D", "drain_form", "Drain with options", show=False),  # merged with KsreApp's
                Binding("y", "replay", "Replay", show=False)]

    # provided by KsreApp
    cluster: ClusterConfig
    config: AppConfig
    ui: UiSettings
    refresher: Refresher
    engine: EngineThread
    tabs: TabbedContent
    topics_pane: TopicsPane
    groups_pane: GroupsPane
    jobs_pane: JobsPane
    backups_pane: BackupsPane
    action_show_tab: Callable[[str], None]

    def action_new_backup(self) -> None:
        from kafka_sre_tui.tui.screens.backup_form import BackupForm

        topic = ""
        if self.tabs.active == "topics":
            topic = self.topics_pane.selected() or ""
        self.push_screen(BackupForm(topic, self.config.backup), self._start_backup)

    def _start_backup(self, request: BackupRequest | None) -> None:
        if request is None:
            return
        job = Job("backup", f"{self.cluster.name}/{request.topic}")
        self._tell_webhooks(job)
        job.worker = self.run_worker(self._run_backup(job, request), group="jobs", exit_on_error=False)
        self._job_changed(job)
        self.action_show_tab("jobs")

    async def _run_backup(self, job: Job, request: BackupRequest) -> None:
        from kafka_sre_tui.engine.backup.run import backup_topic

        def emit(p: BackupProgress | Checkpointed | Retrying) -> None:
            if isinstance(p, Retrying):
                self.notify(f"{job.kind} {job.target}: {p.describe()}", severity="warning")
                return
            if isinstance(p, Checkpointed):
                return
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
            await self._supervise(job, self._keyed(lambda key: backup_topic(
                self.cluster, dataclasses.replace(request, encryption_key=key), self._on_ui(emit, job))), done,
                cancelled)
        finally:
            self.backups_pane.reload()

    def action_drain_group(self, group_id: str | None = None) -> None:
        """``d``: a drain monitor with the defaults (drained at total lag 0)."""
        from kafka_sre_tui.engine.drain import DrainGoal, MonitorSettings
        from kafka_sre_tui.tui.screens.drain_form import DrainChoice

        group = group_id or self._selected_group()
        if group is not None:
            settings = MonitorSettings(interval_seconds=self._drain_interval())
            self._start_drain(group, DrainChoice(DrainGoal(max_lag=0, stop_when_stalled=False), settings))

    def action_drain_form(self) -> None:
        """``D``: the drain command's goal and sampling options first."""
        from kafka_sre_tui.tui.screens.drain_form import DrainForm

        group = self._selected_group()
        if group is not None:
            self.push_screen(DrainForm(group, self._drain_interval()),
                             lambda choice: self._start_drain(group, choice) if choice else None)

    def _selected_group(self) -> str | None:
        group = self.groups_pane.selected()
        if group is None:
            self.notify("select a consumer group first (g)", severity="warning")
        return group

    _notify_next = False  # the last form's "Notify the [notify] webhooks" box, for the job it starts

    def choose_notify(self, on: bool) -> None:
        self._notify_next = on

    def _tell_webhooks(self, job: Job) -> None:
        """The job tells the [notify] webhooks how it ended, and its alerts, when its form asked to (as
        the CLI's --notify does; delivery runs in threads of its own, never on the UI's)."""
        chosen, self._notify_next = self._notify_next, False
        if not chosen:
            return
        from kafka_sre_tui.cli.observability import watch_for_alerts
        from kafka_sre_tui.observe.alerts import LagThreshold
        from kafka_sre_tui.observe.notify import Notifier

        notifier = Notifier(self.config.notify, self.cluster.name)
        watch_for_alerts(job.observed, notifier, LagThreshold(self.config.notify.migration_lag_records,
                                                              self.config.notify.migration_lag_seconds))
        job.observed.on_end.append(notifier.job_ended)

    def _drain_interval(self) -> float:
        return max(1.0, min(self.ui.refresh_seconds, 5.0))

    def _start_drain(self, group: str, choice: DrainChoice) -> None:
        from kafka_sre_tui.tui.screens.drain import DrainScreen

        job = Job("drain", group)
        self._tell_webhooks(job)
        screen = DrainScreen(job.job_id, group, choice.goal)
        job.worker = self.run_worker(self._run_drain(job, group, choice), group="jobs", exit_on_error=False)
        self._job_changed(job)
        self.push_screen(screen)

    async def _run_drain(self, job: Job, group_id: str, choice: DrainChoice) -> None:
        from kafka_sre_tui.engine.drain import Assessment, Outcome, monitor_group
        from kafka_sre_tui.engine.drain.data_loss_probe import DataLossProbe, DataLossSampler
        from kafka_sre_tui.engine.drain.sampler import GroupSampler
        from kafka_sre_tui.engine.drain.stuck import stuck_records
        from kafka_sre_tui.engine.kafka.session import KafkaSession

        initial: list[int] = []
        stalled_told = False

        def emit(seen: object) -> None:
            nonlocal stalled_told
            if not isinstance(seen, DrainSeen):
                return
            event = seen.assessment
            if not initial:
                initial.append(event.total_lag)
            job.records, job.eta_seconds = event.total_lag, event.eta.seconds
            # share of the starting lag worked off; a lag that grew since shows 0 %, never a negative bar
            job.fraction = max(0.0, 1 - event.total_lag / initial[0]) if initial[0] else 1.0
            job.detail = f"{event.status.value}: {event.reason}"
            if event.status.value == "STALLED" and not stalled_told:
                stalled_told = True
                self.notify(f"group {group_id} is STALLED: {event.reason}", severity="error", timeout=10)
                self.bell()
            self.post_message(DrainSampled(job, event, seen.losses, seen.stuck))

        on_ui = self._on_ui(emit, job)

        cluster = self.cluster  # the one it was started on, even if the dashboard switches

        async def watch() -> MonitorResult:
            async with KafkaSession(cluster) as session:  # its own: a drain outlives a switch of cluster
                interval = choice.settings.interval_seconds
                sampler = DataLossSampler(GroupSampler(
                    session, group_id, read_timestamps=choice.settings.read_timestamps,
                    timestamp_budget_seconds=min(1.0, max(0.2, interval / 2))), DataLossProbe(session))

                def tap(event: object) -> None:  # on the engine thread, right after the sample it judges
                    if isinstance(event, Assessment):
                        on_ui(DrainSeen(event, dict(sampler.latest), stuck_records(event, sampler.last)))

                return await monitor_group(session, group_id, tap, goal=choice.goal, settings=choice.settings,
                                           sampler=sampler)

        def done(result: MonitorResult) -> None:
            drained = result.outcome == Outcome.DRAINED
            job.state = DONE if drained else FAILED
            job.fraction = 1.0 if drained else job.fraction
            job.detail = result.reason

        await self._supervise(job, watch(), done, lambda: "stopped")

    def on_drain_sampled(self, message: DrainSampled) -> None:
        from kafka_sre_tui.tui.screens.drain import DrainScreen

        self.jobs_pane.update_job(message.job)
        for screen in self.screen_stack:
            if isinstance(screen, DrainScreen) and screen.job_id == message.job.job_id:
                screen.show(message.assessment, message.losses, message.stuck)

    def action_verify_backup(self) -> None:
        backup = self.backups_pane.selected()
        if backup is None:
            self.notify("select a backup on the Backups tab first", severity="warning")
            return
        job = Job("verify", backup.backup_id)
        job.worker = self.run_worker(self._run_verify(job, backup.backup_id), group="jobs", exit_on_error=False)
        self._job_changed(job)

    async def _run_verify(self, job: Job, backup_id: str) -> None:
        from kafka_sre_tui.engine.backup.catalog import verify

        def done(result: VerifyResult) -> None:
            job.fraction, job.records = 1.0, result.records
            job.mb_per_second = result.bytes_checked / 1e6 / result.seconds if result.seconds else 0.0
            job.state = DONE if result.intact else FAILED
            job.detail = "intact" if result.intact else "; ".join(d.describe(backup_id) for d in result.damage)

        await self._supervise(job, self._keyed(lambda key: verify(backup_location(None, self.config.backup),
                                                                  backup_id, key)), done,
                              lambda: "cancelled")

    async def _keyed(self, start: Callable[[EncryptionKey | None], Awaitable[T]]) -> T:
        """Run ``start`` with the config's backup encryption key, read when the job starts (a key
        that cannot be read fails the job with its one-line error)."""
        return await start(encryption_key(argparse.Namespace(), self.config))

    def action_restore_backup(self) -> None:
        from kafka_sre_tui.tui.screens.restore_form import RestoreForm

        backup = self.backups_pane.selected()
        if backup is None or backup.status != "complete":
            self.notify("select a complete backup on the Backups tab first", severity="warning")
            return
        try:
            refuse_read_only(self.cluster.read_only, self.cluster.name, self.cluster.source, "restore",
                             "restore into", "pick another cluster", parameters={"backup_id": backup.backup_id})
        except KsreError as exc:
            self.notify(str(exc), title="Restore refused", severity="error", timeout=15)
            return
        self.push_screen(RestoreForm(backup_location(None, self.config.backup), backup.backup_id, backup.topic,
                                     self.cluster.name), self._restore_chosen)

    def _restore_chosen(self, request: RestoreRequest | None) -> None:
        if request is None:
            return
        if request.resume:  # the saved plan decides what is left; nothing to check first
            self._confirm_resume(request)
        else:
            self._dry_run(request)

    @work(group="restore-preflight")
    async def _confirm_resume(self, request: RestoreRequest) -> None:
        from kafka_sre_tui.tui.screens.migrate_form import TypeToConfirm

        topic = request.target_topic or ""
        question = (f"Resume the restore of {request.backup_id} into {self.cluster.name}/{topic}: the rest of "
                    "its records are written into that existing topic.")
        if await self.push_screen_wait(TypeToConfirm(question, topic)):
            self._start_restore(request)

    @work(group="restore-preflight")
    async def _dry_run(self, request: RestoreRequest) -> None:
        """The preflight first, always; a ``--dry-run`` request stops there."""
        from kafka_sre_tui.engine.restore.run import restore_backup
        from kafka_sre_tui.tui.screens.restore_form import PreflightScreen

        self.notify(f"checking the restore of {request.backup_id} (verify + preflight)…")
        try:
            result = await self.engine.run(self._keyed(lambda key: restore_backup(
                self.cluster, dataclasses.replace(request, dry_run=True, encryption_key=key))))
        except KsreError as exc:
            self.notify(str(exc), title="Restore refused", severity="error", timeout=15)
            return
        if result.preflight is None:
            return
        if await self.push_screen_wait(PreflightScreen(result.preflight, check_only=request.dry_run)):
            self._start_restore(dataclasses.replace(request, create_topic=result.preflight.create))

    def _start_restore(self, request: RestoreRequest) -> None:
        job = Job("restore", f"{request.backup_id} → {self.cluster.name}/{request.target_topic}")
        self._tell_webhooks(job)
        job.worker = self.run_worker(self._run_restore(job, request), group="jobs", exit_on_error=False)
        self._job_changed(job)
        self.action_show_tab("jobs")

    async def _run_restore(self, job: Job, request: RestoreRequest) -> None:
        from kafka_sre_tui.engine.restore.events import RestoreProgress
        from kafka_sre_tui.engine.restore.run import restore_backup

        def emit(event: object) -> None:
            if isinstance(event, RestoreProgress):
                job.records, job.mb_per_second = event.records, event.mb_per_second
                job.fraction, job.eta_seconds = event.fraction, event.eta_seconds
                self.post_message(JobChanged(job))

        def done(result: RestoreResult) -> None:
            written = result.metrics.messages if result.metrics else 0
            job.fraction, job.detail = 1.0, f"{written:,} records written" + _uncommitted(result.groups_not_committed)
            job.metrics = dataclasses.asdict(result.metrics) if result.metrics else {}

        await self._supervise(job, self._keyed(lambda key: restore_backup(
            self.cluster, dataclasses.replace(request, encryption_key=key), self._on_ui(emit, job))), done,
                              lambda: "resumable: R again with Resume (Advanced), or kafka-sre-tui restore --resume")

    def action_migrate_topic(self) -> None:
        from kafka_sre_tui.tui.screens.migrate_form import MigrateForm

        topic = self.topics_pane.selected()
        if self.tabs.active != "topics" or topic is None:
            self.notify("select a topic on the Topics tab first (t)", severity="warning")
            return
        names = [self.cluster.name, *(n for n in self.config.clusters if n != self.cluster.name)]
        self.push_screen(MigrateForm(topic, self.cluster.name, names), self._check_migration)

    @work(group="migrate-check")
    async def _check_migration(self, choice: MigrateChoice | None) -> None:
        from kafka_sre_tui.engine.migrate.run import migration_parameters
        from kafka_sre_tui.engine.migrate.run import refuse_read_only as refuse_migration
        from kafka_sre_tui.tui.screens.migrate_form import TypeToConfirm

        if choice is None:
            return
        name, request = choice.cluster, choice.request
        try:
            target = self.cluster if name == self.cluster.name else self.config.cluster(name)
            refuse_migration(target, "migrate into", "migrate", request.target,
                             migration_parameters(self.cluster, request))
            existing = await self.engine.run(_topic_names(target))
        except KsreError as exc:
            self.notify(str(exc), title="Migration refused", severity="error", timeout=15)
            return
        if request.target in existing:
            question = f"Topic {name}/{request.target} already exists; the migration writes into it."
            if not await self.push_screen_wait(TypeToConfirm(question, request.target)):
                return
            request = dataclasses.replace(request, create_topic=False)
        job = Job("migrate", f"{self.cluster.name}/{request.source_topic} → {name}/{request.target}")
        self._tell_webhooks(job)
        job.worker = self.run_worker(self._run_migration(job, target, request, choice.verify), group="jobs",
                                     exit_on_error=False)
        self._job_changed(job)
        self.action_show_tab("jobs")

    async def _run_migration(self, job: Job, target: ClusterConfig, request: MigrateRequest, check: bool) -> None:
        from kafka_sre_tui.engine.migrate.request import MigrateProgress
        from kafka_sre_tui.engine.migrate.run import migrate
        from kafka_sre_tui.engine.migrate.verify import verify_migration

        def emit(event: object) -> None:
            if isinstance(event, MigrateProgress):
                job.records, job.mb_per_second = event.records, event.mb_per_second
                total = event.records + event.lag_records
                job.fraction = event.records / total if total else 1.0
                job.eta_seconds = event.lag_records / event.records_per_second if event.records_per_second else None
                job.detail = f"replication lag {event.lag_records:,} records, {event.lag_seconds:,.1f} s"
                self.post_message(JobChanged(job))

        on_ui = self._on_ui(emit, job)
        source = self.cluster  # the one it was started on, even if the dashboard switches meanwhile

        async def run() -> tuple[MigrateResult, MigrateVerify | None]:
            """What ``migrate`` does: copy, then verify both sides (unless following or asked not to)."""
            result = await migrate(source, target, request, on_ui)
            return result, (await verify_migration(source, target, request) if check else None)

        def done(outcome: tuple[MigrateResult, MigrateVerify | None]) -> None:
            result, verified = outcome
            job.fraction, job.metrics = 1.0, dataclasses.asdict(result.metrics)
            job.detail = f"{result.metrics.records:,} records copied" + _uncommitted(result.groups_not_committed)
            if verified is not None:
                job.detail += "; verify: identical" if verified.ok else "; verify: MISMATCH (migrate verify shows it)"
                job.state = DONE if verified.ok else FAILED

        await self._supervise(job, run(), done, lambda: "resumable: run the same migration again")

    def action_replay(self, topic: str | None = None, group: str | None = None) -> None:
        """``y``: the replay form, from the selected topic (Topics tab) or group (Groups tab: its
        committed offsets on its first topic), or from a detail screen (``topic``, ``group``)."""
        from kafka_sre_tui.tui.screens.replay_form import ReplayForm

        if topic is None and self.tabs.active == "groups" and (group := self.groups_pane.selected()) is not None:
            info = next((g for g in self.groups_pane.groups if g.group_id == group), None)
            topic = info.topics[0] if info and info.topics else ""
        elif topic is None and self.tabs.active == "topics":
            topic = self.topics_pane.selected()
        if topic is None:
            self.notify("select a topic (t) or a group (g) first", severity="warning")
            return
        names = [self.cluster.name, *(n for n in self.config.clusters if n != self.cluster.name)]
        self.push_screen(ReplayForm(topic, names, group or ""), self._check_replay)

    @work(group="replay-check")
    async def _check_replay(self, choice: ReplayChoice | None) -> None:
        """An execution is checked before it starts (read_only target, target partitions, a group's
        active members) and the target topic's name typed; the job checks again before writing."""
        from kafka_sre_tui.engine.replay.run import ReplayRequest
        from kafka_sre_tui.tui.screens.migrate_form import TypeToConfirm

        if choice is None:
            return
        source = self.cluster
        try:
            target = source if choice.cluster == source.name else self.config.cluster(choice.cluster)
            request = ReplayRequest(choice.query, choice.target_topic, target, execute=choice.execute,
                                    rate_limit_mb_s=choice.rate_limit_mb_s, keep_timestamps=choice.keep_timestamps)
            if request.execute:
                await self.engine.run(_replay_checked(source, request))
        except KsreError as exc:
            self.notify(str(exc), title="Replay refused", severity="error", timeout=15)
            return
        if request.execute:
            question = (f"Replay {source.name}/{choice.query.topic} into {target.name}/{choice.target_topic}: "
                        "the records are written into that topic.")
            if not await self.push_screen_wait(TypeToConfirm(question, choice.target_topic)):
                return
        verb = "replay" if request.execute else "replay (dry run)"
        job = Job(verb, f"{source.name}/{choice.query.topic} → {target.name}/{choice.target_topic}")
        job.worker = self.run_worker(self._run_replay(job, source, request), group="jobs", exit_on_error=False)
        self._job_changed(job)
        self.action_show_tab("jobs")

    async def _run_replay(self, job: Job, source: ClusterConfig, request: ReplayRequest) -> None:
        from kafka_sre_tui.engine.kafka.session import KafkaSession
        from kafka_sre_tui.engine.replay.run import replay

        def emit(p: Progress) -> None:
            job.records, job.mb_per_second = p.records, p.mb_per_second
            job.fraction, job.eta_seconds = p.fraction, p.eta_seconds
            job.detail = f"{p.bytes / 1e6:,.1f} MB"
            self.post_message(JobChanged(job))

        on_ui = self._on_ui(emit, job)

        async def run() -> ReplayResult:
            async with contextlib.AsyncExitStack() as stack:
                src = await stack.enter_async_context(KafkaSession(source))
                dst = src if request.target is source else await stack.enter_async_context(
                    KafkaSession(request.target))
                return await replay(src, dst, request, on_ui)

        def done(result: ReplayResult) -> None:
            job.fraction, job.records = 1.0, result.records
            job.mb_per_second = result.bytes / 1e6 / result.elapsed_seconds if result.elapsed_seconds else 0.0
            verb = "copied" if not result.dry_run else "would be copied (dry run, nothing written)"
            job.detail = f"{result.records:,} records {verb}, {result.bytes / 1e6:,.1f} MB" + "".join(
                f"; {note}" for note in result.notes)

        await self._supervise(job, run(), done, lambda: "cancelled: what was written stays (replay is not resumable)")

    def _on_ui(self, emit: Callable[[E], None], job: Job) -> Callable[[E], None]:
        """An engine job's progress sink, called on the engine thread, run on the UI's loop, where the
        job's observer (log lines, ``--metrics-port``) sees each event first."""
        loop = asyncio.get_running_loop()

        def both(event: E) -> None:
            job.observed.event(event)
            emit(event)

        def hop(event: E) -> None:
            loop.call_soon_threadsafe(both, event)

        return hop

    async def _supervise(self, job: Job, work: Coroutine[Any, Any, T], done: Callable[[T], None],
                         cancelled: Callable[[], str]) -> None:
        """What every job shares: run the engine call on the engine thread; ``done`` fills in the result
        (and may still call it a failure); a typed error is the failure in words; a cancel leaves the
        job marked resumable (the engine has finished writing its checkpoint when the cancel returns)."""
        try:
            result = await self.engine.run(work)
        except asyncio.CancelledError:
            job.state, job.detail = CANCELLED, cancelled()
            job.observed.fail(KeyboardInterrupt(f"cancelled from the dashboard: {job.detail}"), 130)
            self._job_changed(job)
            raise
        except KsreError as exc:
            job.state, job.detail = FAILED, str(exc)
            job.observed.fail(exc, exc.exit_code)
        except Exception as exc:  # a bug or the machine (a full disk): still a failure in words, never "running"
            _log.error("job %s %s failed", job.kind, job.target, exc_info=exc)
            job.state, job.detail = FAILED, f"unexpected error: {type(exc).__name__}: {exc}"
            job.observed.fail(exc, 1)
        else:
            job.state = DONE
            done(result)
            job.observed.end(0 if job.state == DONE else 1)  # ``done`` may still call it a failure
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


@dataclasses.dataclass(frozen=True)
class DrainSeen:
    """One drain sample as the dashboard shows it: the lag engine's verdict, the data loss ahead and
    the records the not-moving partitions are stuck on."""

    assessment: Assessment
    losses: dict[TopicPartition, DataLoss]
    stuck: dict[TopicPartition, StuckRecord]


async def _replay_checked(source: ClusterConfig, request: ReplayRequest) -> None:
    from kafka_sre_tui.engine.kafka.session import KafkaSession
    from kafka_sre_tui.engine.replay.run import check_replay

    async with contextlib.AsyncExitStack() as stack:
        src = await stack.enter_async_context(KafkaSession(source))
        dst = src if request.target is source else await stack.enter_async_context(KafkaSession(request.target))
        await check_replay(src, dst, request)


def _uncommitted(groups: Sequence[Any]) -> str:
    return f"; groups not committed: {', '.join(g.group_id for g in groups)}" if groups else ""


async def _topic_names(cluster: ClusterConfig) -> set[str]:
    from kafka_sre_tui.engine.inspect.cluster import list_topics
    from kafka_sre_tui.engine.kafka.session import KafkaSession

    async with KafkaSession(cluster) as session:
        return {t.name for t in await list_topics(session, with_offsets=False)}
