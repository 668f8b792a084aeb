"""The dashboard: clusters, topics, groups, jobs and backups, refreshed in the background.

Long work (refreshes, backups, verifies) runs as workers on the App, so switching screens never
cancels it; workers report through messages (see messages.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane

from kafka_sre_tui.cli.args import backup_location
from kafka_sre_tui.config import MIN_REFRESH_SECONDS, AppConfig, ClusterConfig, UiSettings
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.tui.engine_thread import EngineThread
from kafka_sre_tui.tui.gc_schedule import GcSchedule
from kafka_sre_tui.tui.messages import (
    ClusterProbed,
    DataLossLoaded,
    GroupsLoaded,
    RefreshDone,
    RefreshFailed,
    TopicSizesLoaded,
    TopicsLoaded,
)
from kafka_sre_tui.tui.palette import KafkaObjects
from kafka_sre_tui.tui.refresh import ClusterRefresher, Refresher
from kafka_sre_tui.tui.set_jobs import SetJobs
from kafka_sre_tui.tui.themes import load_project_themes
from kafka_sre_tui.tui.widgets.backups_pane import BackupsPane
from kafka_sre_tui.tui.widgets.clusters_pane import ClustersPane
from kafka_sre_tui.tui.widgets.groups_pane import HISTORY, GroupsPane
from kafka_sre_tui.tui.widgets.jobs_pane import JobsPane
from kafka_sre_tui.tui.widgets.live_table import LiveTable
from kafka_sre_tui.tui.widgets.topics_pane import TopicsPane


class KsreApp(SetJobs):
    COMMANDS = SetJobs.COMMANDS | {KafkaObjects}  # `:` jumps to a cluster, topic or group by name
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
        Binding("m", "migrate_topic", "Migrate", show=False),
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
        self._refreshing: set[Refresher] = set()  # refreshers with a refresh in flight
        self.gc_schedule = GcSchedule()
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
        self.jobs_pane = JobsPane(backup_location(None, self.config.backup),
                                  max(self.ui.refresh_seconds, MIN_REFRESH_SECONDS))
        self.backups_pane = BackupsPane(backup_location(None, self.config.backup))
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
        self.engine = EngineThread()  # Kafka answers are decoded here, off the UI's loop
        self.gc_schedule.start()
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
    @work(group="refresh")
    async def refresh_data(self) -> None:
        # A tick while a refresh is still waiting on the cluster is skipped, not a restart: cancelling it
        # would mean a cluster slower than the refresh interval (a silent broker, a timeout longer than
        # refresh_seconds) is never reported at all.
        refresher = self.refresher
        if refresher in self._refreshing:
            return
        self._refreshing.add(refresher)
        try:
            await self.engine.run(refresher.refresh())
        finally:
            self._refreshing.discard(refresher)
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
        await self.engine.run(self.refresher.probe(name, cluster))

    def on_topics_loaded(self, message: TopicsLoaded) -> None:
        if message.source is not self.refresher:
            return
        pane = self.topics_pane
        if message.with_offsets or not pane.topics:  # metadata alone only fills an empty table
            pane.show(message.topics, message.with_offsets, self.filter_text)
        if message.with_offsets:
            self.clusters_pane.show_topics(message.topics)

    def on_topic_sizes_loaded(self, message: TopicSizesLoaded) -> None:
        if message.source is not self.refresher:
            return
        self.topics_pane.show_sizes(message.topics, message.problems, self.filter_text)

    def on_groups_loaded(self, message: GroupsLoaded) -> None:
        if message.source is not self.refresher:
            return
        self.groups_pane.show(message.groups, self.filter_text)
        self.jobs_pane.show_groups(message.groups)  # a workers group's members: in or out of its fleet

    def on_data_loss_loaded(self, message: DataLossLoaded) -> None:
        if message.source is not self.refresher:
            return
        self.groups_pane.show_losses(message.losses)

    def on_cluster_probed(self, message: ClusterProbed) -> None:
        self.clusters_pane.probed(message.name, message.overview, message.error)

    def on_refresh_done(self, message: RefreshDone) -> None:
        if message.source is not self.refresher:
            return
        self._last_good = self.clock()
        pane = self.clusters_pane
        self.gc_schedule.settle()
        self._probe_active()
        self.status.update(
            f"refreshed {self._last_good:%H:%M:%S} in {message.seconds:.2f} s · {len(pane.topics)} topics · "
            f"{len(self.groups_pane.groups)} groups · every {self.ui.refresh_seconds:g} s")

    @work(group="probe")
    async def _probe_active(self) -> None:
        await self.engine.run(self.refresher.probe(self.cluster.name, self.cluster))

    def on_refresh_failed(self, message: RefreshFailed) -> None:
        self.gc_schedule.settle()  # a cluster that stays down must not stop the periodic full collection
        if message.source is not self.refresher:
            return
        since = f"stale since {self._last_good:%H:%M:%S}" if self._last_good else "no data yet"
        self.status.update(f"[b red]{since}[/]: {message.error}")

    # -- navigation ---------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """`:` / Ctrl+P: every tab and action by name, after Textual's own (themes, keys, quit)."""
        yield from super().get_system_commands(screen)
        for tab, title in (("clusters", "Clusters"), ("topics", "Topics"), ("groups", "Consumer groups"),
                           ("jobs", "Jobs"), ("backups", "Backups")):
            yield SystemCommand(f"Show {title}", f"switch to the {title} tab", partial(self.action_show_tab, tab))
        yield SystemCommand("Refresh now", "reload topics, offsets and groups", self.action_refresh_now)
        yield SystemCommand("New backup", "back up a topic of this cluster", self.action_new_backup)
        yield SystemCommand("Drain monitor", "watch the selected group drain", self.action_drain_group)
        yield SystemCommand("Drain with options", "set the drain goal and sampling first", self.action_drain_form)
        yield SystemCommand("Migrate topic", "copy the selected topic to another cluster", self.action_migrate_topic)
        yield SystemCommand("Sort groups by lag", "toggle", self.action_sort_groups)
        yield SystemCommand("Help", "every key", self.action_help)

    def action_show_tab(self, tab: str) -> None:
        self.tabs.active = tab
        if tab == "backups":
            self.backups_pane.reload()
        self._focus_active_table()

    def action_refresh_now(self) -> None:
        self.refresh_data()

    def action_help(self) -> None:
        from kafka_sre_tui.tui.screens.help import HelpScreen

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
            self.screen_stack[0].query_one(f"#{active}-table").focus()

    def _apply_filter(self, text: str) -> None:
        self.filter_text = text
        self.topics_pane.render_rows(text)
        self.groups_pane.render_rows(text)

    @on(LiveTable.RowSelected, "#topics-table")
    def _open_topic(self, event: LiveTable.RowSelected) -> None:
        self.open_topic(event.key)

    def open_topic(self, topic: str) -> None:
        from kafka_sre_tui.tui.screens.topic_detail import TopicScreen

        consumers = [g.group_id for g in self.groups_pane.groups if topic in g.topics]
        self.push_screen(TopicScreen(topic, consumers, partial(self.topics_pane.rates.partition_rates, topic),
                                     max(self.ui.refresh_seconds, MIN_REFRESH_SECONDS)))

    @on(LiveTable.RowSelected, "#groups-table")
    def _open_group(self, event: LiveTable.RowSelected) -> None:
        self.open_group(event.key)

    def open_group(self, group: str) -> None:
        from kafka_sre_tui.tui.screens.group_detail import GroupScreen

        history = self.groups_pane.history.setdefault(group, deque(maxlen=HISTORY))
        self.push_screen(GroupScreen(group, history, max(self.ui.refresh_seconds, MIN_REFRESH_SECONDS),
                                     lambda: self.groups_pane.assessments.get(group)))

    @on(DataTable.RowSelected, "#clusters-table")
    def _switch_cluster(self, event: DataTable.RowSelected) -> None:
        self.switch_cluster(str(event.row_key.value))

    def switch_cluster(self, name: str) -> None:
        if name == self.cluster.name:
            return
        try:
            cluster = self.config.cluster(name)
        except KsreError as exc:
            self.notify(str(exc), title="Cannot switch cluster", severity="error")
            return
        self.run_worker(self.engine.run(self.refresher.close()), group="close")
        self.cluster = cluster
        self.refresher = self.make_refresher(cluster, self)
        self.clusters_pane.active = name
        self.topics_pane.reset()  # rates and sizes too: they belong to the other cluster
        self.groups_pane.clear()
        self.jobs_pane.show_groups([])  # the other cluster's members say nothing of these fleets
        self._last_good = None
        self._show_cluster_identity()
        self.refresh_data()
        self.action_show_tab("topics")

    async def action_quit(self) -> None:
        from kafka_sre_tui.tui.screens.confirm import Confirm

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
        try:
            await self.engine.run(self.refresher.close())
        finally:
            try:
                await asyncio.to_thread(self.engine.stop)  # running jobs are cancelled and leave a checkpoint
            finally:
                self.gc_schedule.stop()
