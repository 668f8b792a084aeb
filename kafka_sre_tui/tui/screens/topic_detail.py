"""One topic: its partitions (leader, ISR, offsets), the configs set on it, the groups reading it."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kafka_sre_tui.engine.cluster import list_topics
from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.tui.widgets.cells import num


class TopicScreen(Screen[None]):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("r", "reload", "Refresh")]

    def __init__(self, topic: str, consumers: list[str]) -> None:
        super().__init__()
        self.topic = topic
        self.consumers = consumers

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
            "Partition", "Leader", "Replicas", "ISR", "Earliest", "Latest", "Messages", "Flags")
        self.query_one("#configs-table", DataTable).add_columns("Key", "Value")
        self.action_reload()

    @work(exclusive=True, group="topic-detail")
    async def action_reload(self) -> None:
        try:
            session = await self.app.refresher.session()  # type: ignore[attr-defined]
            [topic] = await list_topics(session, names=[self.topic], include_internal=True, with_configs=True)
        except KsreError as exc:
            self.query_one("#detail-title", Static).update(f"Topic {self.topic}: [b red]{exc}[/]")
            return
        title = (f"Topic {topic.name}: {len(topic.partitions)} partitions, RF {topic.replication_factor}, "
                 f"{topic.messages:,} messages, {topic.under_replicated} under-replicated")
        self.query_one("#detail-title", Static).update(title)
        partitions = self.query_one("#partitions-table", DataTable)
        partitions.clear()
        for p in topic.partitions:
            flags = " ".join(f for f, on in (("OFFLINE", p.offline), ("URP", p.under_replicated)) if on)
            partitions.add_row(num(p.partition), num(p.leader), ",".join(map(str, p.replicas)),
                               ",".join(map(str, p.isr)), num(p.earliest_offset), num(p.latest_offset),
                               num(p.messages), flags)
        configs = self.query_one("#configs-table", DataTable)
        configs.clear()
        for key, value in sorted(topic.configs.items()) or [("(none)", "")]:
            configs.add_row(key, value)
