"""`?`: every key the dashboard answers to."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = """[b]Keys[/b]
  c t g j b   Clusters, Topics, Groups, Jobs, Backups
  /           filter the list (regular expression; !text hides matches); Esc clears
  Enter       open the selected topic or group; on Clusters, switch to that cluster
  s           sort groups by lag
  d           drain monitor for the selected group: live lag plot, ETA, status (runs as a job)
  r           refresh now
  n           new backup (from Topics: of the selected topic)
  v           verify the selected backup
  R           restore the selected backup into this cluster (dry run first; disabled on read-only)
  m           migrate the selected topic to another cluster or topic (runs as a job)
  x           cancel the selected job (it stays resumable)
  :  ctrl+p   command palette (themes, ...)
  ?           this help;  q  quit (asks when jobs are running)"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(KEYS)
