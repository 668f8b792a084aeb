"""One record, whole: every field, headers in order, the value pretty-printed; `c` copies the value
to the clipboard (OSC 52, where the terminal allows it)."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from kafka_sre_tui.engine.records.model import Record
from kafka_sre_tui.engine.records.render import describe, show, timestamp_text


def record_text(record: Record) -> str:
    lines = [f"{record.topic}/{record.partition} offset {record.offset}",
             f"timestamp  {timestamp_text(record.timestamp_ms)} ({record.timestamp_type})",
             f"key        {describe(show(record.key, max_chars=None))}"]
    lines += [f"header     {name} = {describe(show(value, max_chars=None))}" for name, value in record.headers]
    if not record.headers:
        lines.append("headers    (none)")
    lines.append("value")
    lines.append(describe(show(record.value, max_chars=None)))
    return "\n".join(lines)


class RecordDetail(ModalScreen[None]):
    BINDINGS = [Binding("escape", "dismiss", "Back"), Binding("c", "copy", "Copy value")]

    def __init__(self, record: Record) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="record-detail"):
            yield Static(escape(record_text(self.record)), id="record-text")
        yield Footer()

    def action_copy(self) -> None:
        value = show(self.record.value, max_chars=None)
        self.app.copy_to_clipboard(value.text or "")
        self.notify(f"value copied ({value.size:,} B) where the terminal allows OSC 52")
