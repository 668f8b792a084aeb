"""The record view: a topic's records from a start (tail, earliest, an offset, a time or a group's
committed offsets), `/` to filter them, Enter to see one whole, `s` to choose another start (a form).

The read is the CLI's (`records`): one bounded engine scan on the engine's loop."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from kafka_sre_tui.engine.errors import KsreError
from kafka_sre_tui.engine.records.model import Record
from kafka_sre_tui.engine.records.query import RecordQuery
from kafka_sre_tui.engine.records.read import ReadEnd, read_records
from kafka_sre_tui.engine.records.render import show, timestamp_text
from kafka_sre_tui.tui.screens.offsets_form import OffsetsResetForm
from kafka_sre_tui.tui.screens.record_detail import RecordDetail
from kafka_sre_tui.tui.screens.records_start import RecordsStartForm

SHOWN = 200  # records kept on screen at most
PREVIEW = 80


class RecordsScreen(Screen[None]):
    BINDINGS = [Binding("escape", "back", "Back"), Binding("slash", "filter", "Filter"),
                Binding("s", "start", "Start at…"), Binding("r", "reload", "Reload"),
                Binding("k", "skip", "Skip this record")]

    def __init__(self, query: RecordQuery, note: str = "") -> None:
        """``note``: shown under the title (why a poison-pill view was opened)."""
        super().__init__()
        self.query_ = query
        self.note = note
        self.records: list[Record] = []
        self.pattern: re.Pattern[str] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._title("reading…"), id="records-title")
        yield Input(placeholder="filter (regular expression over key, headers and value)", id="records-filter")
        yield DataTable(id="records-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#records-filter", Input).display = False
        self.query_one("#records-table", DataTable).add_columns(
            "Partition", "Offset", "Timestamp", "Key", "Headers", "Value")
        self.action_reload()

    def _title(self, status: str) -> str:
        q = self.query_
        where = ", ".join(map(str, q.partitions)) if q.partitions else "all"
        start = (f"group {q.group}'s committed offsets" if q.group else f"offset {q.offset}" if q.offset is not None
                 else f"time {timestamp_text(q.time_ms)}" if q.time_ms is not None
                 else f"the last {q.tail}" if q.tail is not None else "the earliest offset")
        note = f"\n{escape(self.note)}" if self.note else ""
        return f"Records of {escape(q.topic)} (partitions {where}) from {start}: {status}{note}"

    @work(exclusive=True, group="records-view")
    async def action_reload(self) -> None:
        app: Any = self.app
        query = self.query_

        async def fetch() -> tuple[list[Record], ReadEnd | None]:
            session = await app.refresher.session()
            found: list[Record] = []
            async for item in read_records(session, query):
                if isinstance(item, ReadEnd):
                    return found, item
                found.append(item)
            return found, None

        try:
            self.records, end = await app.engine.run(fetch())
        except KsreError as exc:
            self.query_one("#records-title", Static).update(self._title(f"[b red]{escape(str(exc))}[/]"))
            return
        status = f"{len(self.records):,} records" + (f" ({end.scanned:,} read)" if end else "")
        if end and end.notes:
            status += " · " + "; ".join(end.notes)
        self.query_one("#records-title", Static).update(self._title(escape(status)))
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#records-table", DataTable)
        table.clear()
        for i, r in enumerate(self.records):
            key, value = show(r.key, max_chars=PREVIEW, pretty=False), show(r.value, max_chars=PREVIEW, pretty=False)
            headers = " ".join(f"{name}={show(v, max_chars=20, pretty=False).text}" for name, v in r.headers)
            line = (key.text or "null", headers, value.text or "null")
            if self.pattern and not any(self.pattern.search(cell) for cell in line):
                continue
            table.add_row(str(r.partition), str(r.offset), timestamp_text(r.timestamp_ms), *line, key=str(i))

    def action_skip(self) -> None:
        """From a group's view: the offsets reset form with ``skip 1`` for the selected record's partition."""
        table = self.query_one("#records-table", DataTable)
        if self.query_.group is None or not table.row_count:
            self.notify("skip needs a view opened from a group (p or v in group detail)", severity="warning")
            return
        partition = int(str(table.get_row_at(table.cursor_row)[0]))
        self.app.push_screen(OffsetsResetForm(self.query_.group, self.query_.topic, (partition,), "skip 1"))

    def action_filter(self) -> None:
        box = self.query_one("#records-filter", Input)
        box.display = True
        box.focus()

    def action_start(self) -> None:
        self.app.push_screen(RecordsStartForm(self.query_), self._start_chosen)

    def action_back(self) -> None:
        box = self.query_one("#records-filter", Input)
        if box.display and box.value:
            box.value = ""
            return
        self.app.pop_screen()

    @on(Input.Changed, "#records-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        try:
            self.pattern = re.compile(event.value) if event.value else None
        except re.error:
            return  # keep the last valid filter while typing
        self._fill()

    @on(Input.Submitted, "#records-filter")
    def _filter_done(self) -> None:
        self.query_one("#records-table", DataTable).focus()

    def _start_chosen(self, query: RecordQuery | None) -> None:
        if query is not None:
            self.query_ = dataclasses.replace(query, limit=SHOWN)
            self.action_reload()

    @on(DataTable.RowSelected, "#records-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(RecordDetail(self.records[int(event.row_key.value)]))
