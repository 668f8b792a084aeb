"""The dashboard: clusters, topics, groups, jobs and backups, refreshed in the background.

Long work (refreshes, backups, verifies) runs as workers on the App, so switching screens never
cancels it; workers report through messages (see messages.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message_pump import MessagePump
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane

from kafka_sre_tui.config import MIN_REFRESH_SECONDS, AppConfig, ClusterConfig, UiSettings
from kafka_sre_tui.engine.backup import BackupProgress, backup_topic
from kafka_sre_tui.engine.backup_plan import BackupRequest
from kafka_sre_tui.engine.backups import verify
from kafka_sre_tui.engine.drain import Assessment, DrainGoal, MonitorSettings, Outcome, monitor_group
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.restore import restore_backup
from kafka_sre_tui.engine.restore_events import RestoreProgress
from kafka_sre_tui.engine.restore_plan import RestoreRequest
from kafka_sre_tui.tui.jobs import CANCELLED, DONE, FAILED, Job
from kafka_sre_tui.tui.messages import (
    ClusterProbed,
    DrainSampled,
    GroupsLoaded,
    JobChanged,
    RefreshDone,
    RefreshFailed,
    TopicsLoaded,
)
from kafka_sre_tui.tui.refresh import ClusterRefresher, Refresher
from kafka_sre_tui.tui.screens.backup_form import BackupForm
from kafka_sre_tui.tui.screens.confirm import Confirm
from kafka_sre_tui.tui.screens.drain import DrainScreen
from kafka_sre_tui.tui.screens.group_detail import GroupScreen
from kafka_sre_tui.tui.screens.help import HelpScreen
from kafka_sre_tui.tui.screens.restore_form import PreflightScreen, RestoreForm
from kafka_sre_tui.tui.screens.topic_detail import TopicScreen
from kafka_sre_tui.tui.themes import load_project_themes
from kafka_sre_tui.tui.widgets.backups_pane import BackupsPane
from kafka_sre_tui.tui.widgets.clusters_pane import ClustersPane
from kafka_sre_tui.tui.widgets.groups_pane import HISTORY, GroupsPane
from kafka_sre_tui.tui.widgets.jobs_pane import JobsPane
from kafka_sre_tui.tui.widgets.topics_pane import TopicsPane


class KsreApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "kafka-sre-tui"
    AUTO_FOCUS = "#topics-table"
    BINDINGS = [
        Binding("c", "show_tab('clusters')", "Clusters"),
        Binding("t", "show_tab('topics')", "Topics"),
        Binding("g", "show_tab('groups')", "Groups"),
        Binding("j", "show_tab('jobs')", "Jobs"),
        Binding("b", "show_tab('backups')", "Backups"),
        Binding("slash", "filter", "Filter"),
        Binding("r", "refresh_now", "Refresh"),
        Binding("n", "new_backup", "Backup"),
        Binding("d", "drain_group", "Drain"),
        Binding("v", "verify_backup", "Verify", show=False),
        Binding("R", "restore_backup", "Restore", show=False),
        Binding("x", "cancel_job", "Cancel job", show=False),
        Binding("s", "sort_groups", "Sort by lag", show=False),
        Binding("colon", "command_palette", "Commands", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("escape", "clear_filter", show=False),
    ]

    def __init__(self, cluster: ClusterConfig, ui: UiSettings | None = None,
                 background: Callable[[], Awaitable[None]] | None = None, config: AppConfig | None = None,
                 refresher: Callable[[ClusterConfig, MessagePump], Refresher] = ClusterRefresher,
                 clock: Callable[[], datetime] = datetime.now) -> None:
        super().__init__()
        self.config = config or AppConfig()
        self.cluster = cluster
        self.ui = ui or self.config.ui
        self.background = background
        self.make_refresher = refresher
        self.refresher = refresher(cluster, self)
        self.clock = clock
        self.filter_text = ""
        self._last_good: datetime | None = None

    # -- layout -------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        # References, not queries: App.query_one searches the active screen, which may be a dialog.
        self.header = Header()
        self.filter_box = Input(placeholder="filter: regular expression, !text to hide matches (Esc clears)",
                                id="filter")
        self.tabs = TabbedContent(initial="topics")
        self.clusters_pane = ClustersPane(self._cluster_list(), self.cluster.name)
        self.topics_pane = TopicsPane()
        self.groups_pane = GroupsPane(max(self.ui.refresh_seconds, MIN_REFRESH_SECONDS))
        self.jobs_pane = JobsPane()
        self.backups_pane = BackupsPane(self.config.backup.base_path.expanduser())
        self.status = Static("connecting…", id="status")
        yield self.header
        yield self.filter_box
        with self.tabs:
            with TabPane("Clusters", id="clusters"):
                yield self.clusters_pane
            with TabPane("Topics", id="topics"):
                yield self.topics_pane
            with TabPane("Consumer groups", id="groups"):
                yield self.groups_pane
            with TabPane("Jobs", id="jobs"):
                yield self.jobs_pane
            with TabPane("Backups", id="backups"):
                yield self.backups_pane
        yield self.status
        yield Footer()

    def _cluster_list(self) -> dict[str, tuple[str, bool]]:
        clusters = {name: (entry.bootstrap_text, entry.read_only) for name, entry in self.config.clusters.items()}
        clusters.setdefault(self.cluster.name, (",".join(self.cluster.bootstrap_servers), self.cluster.read_only))
        return clusters

    def on_mount(self) -> None:
        for theme in load_project_themes():
            self.register_theme(theme)
        if self.ui.theme in self.available_themes:
            self.theme = self.ui.theme
        self._show_cluster_identity()
        if self.background is not None:
            self.run_worker(self.background(), name="background", group="background")
        self.refresh_data()
        self.set_interval(max(self.ui.refresh_seconds, MIN_REFRESH_SECONDS), self.refresh_data)

    def _show_cluster_identity(self) -> None:
        """The cluster's name and colour stay in the header: production must not look like staging."""
        self.sub_title = f"{self.cluster.name} ({','.join(self.cluster.bootstrap_servers)})" + (
            " · READ-ONLY" if self.cluster.read_only else "")
        if self.cluster.color:
            self.header.styles.background = self.cluster.color

    # -- refresh ------------------------------------------------------------------------------
    @work(exclusive=True, group="refresh")
    async def refresh_data(self) -> None:
        await self.refresher.refresh()
        for name in self.config.clusters:
            if name != self.cluster.name:
                self._probe(name)

    @work(group="probe")
    async def _probe(self, name: str) -> None:
        try:
            cluster = self.config.cluster(name)
        except KsreError as exc:
            self.post_message(ClusterProbed(name, None, str(exc)))
            return
        await self.refresher.probe(name, cluster)

    def on_topics_loaded(self, message: TopicsLoaded) -> None:
        pane = self.topics_pane
        if message.with_offsets or not pane.topics:  # metadata alone only fills an empty table
            pane.show(message.topics, message.with_offsets, self.filter_text)
        if message.with_offsets:
            self.clusters_pane.show_topics(message.topics)

    def on_groups_loaded(self, message: GroupsLoaded) -> None:
        self.groups_pane.show(message.groups, self.filter_text)

    def on_cluster_probed(self, message: ClusterProbed) -> None:
        self.clusters_pane.probed(message.name, message.overview, message.error)

    def on_refresh_done(self, message: RefreshDone) -> None:
        self._last_good = self.clock()
        pane = self.clusters_pane
        self._probe_active()
        self.status.update(
            f"refreshed {self._last_good:%H:%M:%S} in {message.seconds:.2f} s · {len(pane.topics)} topics · "
            f"{len(self.groups_pane.groups)} groups · every {self.ui.refresh_seconds:g} s")

    @work(group="probe")
    async def _probe_active(self) -> None:
        await self.refresher.probe(self.cluster.name, self.cluster)

    def on_refresh_failed(self, message: RefreshFailed) -> None:
        since = f"stale since {self._last_good:%H:%M:%S}" if self._last_good else "no data yet"
        self.status.update(f"[b red]{since}[/]: {message.error}")

    # -- navigation ---------------------------------------------------------------------------
    def action_show_tab(self, tab: str) -> None:
        self.tabs.active = tab
        if tab == "backups":
            self.backups_pane.reload()
        self._focus_active_table()

    def action_refresh_now(self) -> None:
        self.refresh_data()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_sort_groups(self) -> None:
        pane = self.groups_pane
        pane.sort_by_lag = not pane.sort_by_lag
        pane.render_rows(self.filter_text)

    def action_filter(self) -> None:
        box = self.filter_box
        box.add_class("shown")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.filter_box
        box.value = ""
        box.remove_class("shown")
        self._apply_filter("")
        self._focus_active_table()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._apply_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self._focus_active_table()

    def _focus_active_table(self) -> None:
        active = self.tabs.active
        with contextlib.suppress(NoMatches):
            self.screen_stack[0].query_one(f"#{active}-table", DataTable).focus()

    def _apply_filter(self, text: str) -> None:
        self.filter_text = text
        self.topics_pane.render_rows(text)
        self.groups_pane.render_rows(text)

    @on(DataTable.RowSelected, "#topics-table")
    def _open_topic(self, event: DataTable.RowSelected) -> None:
        topic = str(event.row_key.value)
        consumers = [g.group_id for g in self.groups_pane.groups if topic in g.topics]
        self.push_screen(TopicScreen(topic, consumers))

    @on(DataTable.RowSelected, "#groups-table")
    def _open_group(self, event: DataTable.RowSelected) -> None:
        group = str(event.row_key.value)
        history = self.groups_pane.history.setdefault(group, deque(maxlen=HISTORY))
        self.push_screen(GroupScreen(group, history, max(self.ui.refresh_seconds, MIN_REFRESH_SECONDS)))

    @on(DataTable.RowSelected, "#clusters-table")
    def _switch_cluster(self, event: DataTable.RowSelected) -> None:
        name = str(event.row_key.value)
        if name == self.cluster.name:
            return
        try:
            cluster = self.config.cluster(name)
        except KsreError as exc:
            self.notify(str(exc), title="Cannot switch cluster", severity="error")
            return
        self.run_worker(self.refresher.close(), group="close")
        self.cluster = cluster
        self.refresher = self.make_refresher(cluster, self)
        self.clusters_pane.active = name
        for pane in (self.topics_pane, self.groups_pane):
            pane.table.clear()
        self.topics_pane.topics = []
        self.groups_pane.groups = []
        self._last_good = None
        self._show_cluster_identity()
        self.refresh_data()
        self.action_show_tab("topics")

    # -- jobs ---------------------------------------------------------------------------------
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

        try:
            result = await backup_topic(self.cluster, request, emit)
        except asyncio.CancelledError:
            job.state = CANCELLED
            job.detail = f"resumable: kafka-sre-tui backup --resume {job.detail}" if job.detail else "cancelled"
            self._job_changed(job)
            raise
        except KsreError as exc:
            job.state, job.detail = FAILED, str(exc)
        else:
            job.state, job.fraction, job.detail = DONE, 1.0, result.backup_id
            job.metrics = result.metrics.__dict__
            job.mb_per_second = result.metrics.throughput_mb_s
        self._job_changed(job)
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

        try:
            session = await self.refresher.session()
            goal = DrainGoal(max_lag=target, stop_when_stalled=False)
            interval = max(1.0, min(self.ui.refresh_seconds, 5.0))
            result = await monitor_group(session, group_id, emit, goal=goal,
                                         settings=MonitorSettings(interval_seconds=interval))
        except asyncio.CancelledError:
            job.state = CANCELLED
            self._job_changed(job)
            raise
        except KsreError as exc:
            job.state, job.detail = FAILED, str(exc)
        else:
            job.state = DONE if result.outcome == Outcome.DRAINED else FAILED
            job.fraction = 1.0 if result.outcome == Outcome.DRAINED else job.fraction
            job.detail = result.reason
        self._job_changed(job)

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
        try:
            result = await verify(self.config.backup.base_path.expanduser(), backup_id)
        except KsreError as exc:
            job.state, job.detail = FAILED, str(exc)
        else:
            job.fraction, job.records = 1.0, result.records
            job.mb_per_second = result.bytes_checked / 1e6 / result.seconds if result.seconds else 0.0
            job.state = DONE if result.intact else FAILED
            job.detail = "intact" if result.intact else "; ".join(d.describe(backup_id) for d in result.damage)
        self._job_changed(job)

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

        try:
            result = await restore_backup(self.cluster, request, emit)
        except asyncio.CancelledError:
            job.state, job.detail = CANCELLED, "resumable: kafka-sre-tui restore --resume (same options)"
            self._job_changed(job)
            raise
        except KsreError as exc:
            job.state, job.detail = FAILED, str(exc)
        else:
            job.state, job.fraction = DONE, 1.0
            written = result.metrics.messages if result.metrics else 0
            job.detail = f"{written:,} records written" + (
                f"; groups not committed: {', '.join(g.group_id for g in result.groups_not_committed)}"
                if result.groups_not_committed else "")
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

    async def action_quit(self) -> None:
        running = [j for j in self.jobs_pane.jobs.values() if j.active]
        if not running:
            self.exit()
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(Confirm(f"{len(running)} job(s) still running. Quit and cancel them? "
                                 "(backups stay resumable)"), answer)

    async def on_unmount(self) -> None:
        await self.refresher.close()
