"""A lag-engine status as a coloured cell (plain ANSI colours: readable with 16 colours; NO_COLOR drops them)."""

from __future__ import annotations

from rich.text import Text

_STYLES = {"OK": "green", "DRAINING": "cyan", "GROWING": "yellow", "STALLED": "bold red", "STOPPED": "red",
           "REWOUND": "magenta", "UNKNOWN": "dim"}


def status_cell(status: str) -> Text:
    return Text(status, style=_STYLES.get(status, ""))
