"""One topic: its partitions (leader, ISR, offsets, size, produce rate), the configs set on it, the
groups reading it. Reloads every refresh period; the rates come from the dashboard's refreshes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kafka_sre_tui.cli.output import human_bytes
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.inspect.cluster import inspect_topics
from kafka_sre_tui.engine.models import TopicInfo, TopicListing
from kafka_sre_tui.engine.records.query import RecordQuery
from kafka_sre_tui.tui.screens.records import RecordsScreen
from kafka_sre_tui.tui.table_sync import sync_rows
from kafka_sre_tui.tui.widgets.cells import num, size


class TopicScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("r", "reload", "Refresh"),
                Binding("v", "records", "Records"), Binding("y", "replay", "Replay")]

    def __init__(self, topic: str, consumers: list[str],
                 rates: Callable[[], Mapping[int, float]] = dict, refresh_seconds: float | None = None) -> None:
        """``rates``: msg/s per partition, from the dashboard's refreshes; ``refresh_seconds``: reload
        period (None: only on ``r``)."""
        super().__init__()
        self.topic = topic
        self.consumers = consumers
        self.rates = rates
        self.refresh_seconds = refresh_seconds

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(f"Topic {self.topic}", id="detail-title")
        yield DataTable(id="partitions-table", cursor_type="row", zebra_stripes=True)
        yield Static("Configs set on the topic", classes="section")
        yield DataTable(id="configs-table", cursor_type="row")
        yield Static("Consumer groups: " + (", ".join(self.consumers) or "none"), id="consumers")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#partitions-table", DataTable).add_columns(
            "Partition", "Leader", "Replicas", "ISR", "Earliest", "Latest", "Messages", "Size", "Rate", "Flags")
        self.query_one("#configs-table", DataTable).add_columns("Key", "Value")
        self.action_reload()
        if self.refresh_seconds:
            self.set_interval(self.refresh_seconds, self.action_reload)

    def action_records(self) -> None:
        """The last records of the selected partition (`s` in the view chooses another start)."""
        table = self.query_one("#partitions-table", DataTable)
        partition = int(str(table.get_row_at(table.cursor_row)[0]).replace(",", "")) if table.row_count else None
        self.app.push_screen(RecordsScreen(RecordQuery(self.topic, None if partition is None else (partition,),
                                                       tail=50)))

    def action_replay(self) -> None:
        self.app.action_replay(self.topic)  # type: ignore[attr-defined]

    @work(exclusive=True, group="topic-detail")
    async def action_reload(self) -> None:
        app: Any = self.app

        async def fetch() -> TopicListing:
            session = await app.refresher.session()
            return await inspect_topics(session, names=[self.topic], include_internal=True, with_configs=True,
                                        with_sizes=True)

        try:
            listing = await app.engine.run(fetch())  # the session lives on the engine's loop
        except KsreError as exc:
            self.query_one("#detail-title", Static).update(f"Topic {self.topic}: [b red]{exc}[/]")
            return
        [topic] = listing.topics
        title = _title(topic)
        if listing.size_problems:
            title += f"\n[dim]size unknown: {escape(listing.size_problems[0])}[/]"
        self.query_one("#detail-title", Static).update(title)
        rates = self.rates()
        sync_rows(self.query_one("#partitions-table", DataTable), {
            str(p.partition): (num(p.partition), num(p.leader), ",".join(map(str, p.replicas)),
                               ",".join(map(str, p.isr)), num(p.earliest_offset), num(p.latest_offset),
                               num(p.messages), size(p.size_bytes), num(rates.get(p.partition), " msg/s"),
                               " ".join(f for f, on in (("OFFLINE", p.offline), ("URP", p.under_replicated)) if on))
            for p in topic.partitions})
        configs = sorted(topic.configs.items()) or [("(none)", "")]
        sync_rows(self.query_one("#configs-table", DataTable), {key: (key, value) for key, value in configs})


def _title(topic: TopicInfo) -> str:
    on_disk = human_bytes(topic.size_bytes) or "size unknown"
    if topic.replicas_size_bytes is not None and topic.replication_factor > 1:
        on_disk += f" ({human_bytes(topic.replicas_size_bytes)} with all replicas)"
    return (f"Topic {topic.name}: {len(topic.partitions)} partitions, RF {topic.replication_factor}, "
            f"{topic.messages:,} messages, {on_disk}, {topic.under_replicated} under-replicated")
