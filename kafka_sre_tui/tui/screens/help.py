"""`?`: every key the dashboard answers to."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("c t g j b", "Clusters, Topics, Groups, Jobs, Backups"),
    ("↑ ↓ PgUp PgDn", "move in a list; Home/End: first/last; ← →: scroll a wide table"),
    ("Enter", "open the selected topic or group; on Clusters, switch to that cluster"),
    ("/", "filter the list (regular expression; !text hides matches); Esc clears"),
    ("s", "sort groups by lag"),
    ("d", "drain monitor for the selected group: live lag plot, ETA, status (runs as a job)"),
    ("D", "drain monitor with a goal: max lag, lag in seconds, timeout, stall window"),
    ("r", "refresh now"),
    ("n", "new backup (from Topics: of the selected topic)"),
    ("v", "verify the selected backup"),
    ("R", "restore the selected backup into this cluster (dry run first; disabled on read-only)"),
    ("m", "migrate the selected topic to another cluster or topic (runs as a job)"),
    ("y", "replay records into a topic: the selected topic's range, or a group's unread records (a job)"),
    ("x", "cancel the selected job (it stays resumable)"),
    (": ctrl+p", "command palette: tabs, actions, themes; type a cluster, topic or group name to jump to it"),
    ("?", "this help"),
    ("q", "quit (asks when jobs are running)"),
)


def keys_table() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, what in KEYS:
        table.add_row(key, what)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):
            yield Static("[b]Keys[/b]")
            yield Static(keys_table())
