"""Topics: partitions, replication, messages, size on disk, produce rate, under-replicated partitions."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from kafka_sre_tui.cli.output import human_bytes
from kafka_sre_tui.engine.models import TopicInfo
from kafka_sre_tui.tui.background_rows import RowRenderer
from kafka_sre_tui.tui.filtering import matcher
from kafka_sre_tui.tui.offset_rates import OffsetRates
from kafka_sre_tui.tui.widgets.cells import number
from kafka_sre_tui.tui.widgets.live_table import Column, LiveTable, prepare_rows

COLUMNS = (Column("Topic", "topic"), Column("Partitions", "partitions", "right"), Column("RF", "rf", "right"),
           Column("Messages", "messages", "right"), Column("Size", "size", "right"),
           Column("Rate", "rate", "right"), Column("URP", "urp", "right"))


class TopicsPane(Vertical):
    def __init__(self) -> None:
        super().__init__(id="topics-pane")
        # the pane owns its table: refreshes may arrive before it is mounted or after it is gone
        self.table = LiveTable(COLUMNS, id="topics-table")
        self.topics: list[TopicInfo] = []
        self.rates = OffsetRates()  # per partition too: the topic screen shows them
        # sizes arrive in a later refresh stage than offsets: the last ones stay shown until then
        self._sizes: dict[str, int | None] = {}
        self.size_problems: tuple[str, ...] = ()  # why sizes show as "-"
        self.renderer = RowRenderer(self, self.table, "render-topics")

    def compose(self) -> ComposeResult:
        yield self.table

    def show(self, topics: list[TopicInfo], with_offsets: bool, pattern: str) -> None:
        self.topics = topics
        if with_offsets:
            self.rates.update(topics)
        self.render_rows(pattern)

    def show_sizes(self, topics: list[TopicInfo], problems: tuple[str, ...], pattern: str) -> None:
        self._sizes = {t.name: t.size_bytes for t in topics}
        self.size_problems = problems
        self.render_rows(pattern)

    def reset(self) -> None:
        """Another cluster: its topics share nothing with these (rates, sizes), even when names match."""
        self.renderer.cancel()
        self.table.clear()
        self.topics = []
        self.rates.clear()
        self._sizes = {}
        self.size_problems = ()

    def render_rows(self, pattern: str) -> None:
        topics, keep = self.topics, matcher(pattern)
        self.renderer.render(len(topics), lambda: prepare_rows(
            COLUMNS, ((t.name, self._cells(t)) for t in topics if keep(t.name))))

    def _cells(self, t: TopicInfo) -> tuple[str, ...]:
        return (t.name, number(len(t.partitions)), number(t.replication_factor), number(t.messages),
                human_bytes(self._sizes.get(t.name)) or "-", number(self.rates.topic_rate(t.name), " msg/s"),
                number(t.under_replicated))

    def selected(self) -> str | None:
        return self.table.selected_key
