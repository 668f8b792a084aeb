"""A table for thousands of rows that change every few seconds.

Textual's DataTable renders each visible cell through Rich and throws every cell it rendered away
on any update, so one changed cell on a 200×60 terminal costs a 120-160 ms frame (measured; see
bench/ui_probe.py), and a cluster whose 2,000 topics all change each refresh is a frozen screen.
Here a row is a tuple of short strings; a visible line is built straight into segments on demand
(the Line API), and nothing but the lines on screen is ever drawn, so a frame costs the same with
20 rows or 20,000, and replacing all rows is a dictionary swap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

Justify = Literal["left", "right"]
_CONTROL = {code: "?" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
Cell = str | Text
MAX_WIDTH = 64  # longer cell text is cut with an ellipsis
PADDING = 1


@dataclass(frozen=True)
class Column:
    label: str
    key: str
    justify: Justify = "left"


@dataclass(frozen=True)
class PreparedRows:
    rows: dict[str, tuple[Cell, ...]]
    order: list[str]
    widths: tuple[int, ...]


def prepare_rows(columns: Sequence[Column], rows: Iterable[tuple[str, Sequence[Cell]]],
                 sort_key: Callable[[tuple[Cell, ...]], Any] | None = None, reverse: bool = False) -> PreparedRows:
    """The rows by key, their order and the columns' widths: pure, so a pane with thousands of rows
    builds them in a thread and the UI only swaps them in (:meth:`LiveTable.show_rows`)."""
    fresh = {key: tuple(cells) for key, cells in rows}
    order = list(fresh)
    if sort_key is not None:
        order.sort(key=lambda k: sort_key(fresh[k]), reverse=reverse)
    widths = [cell_len(c.label) for c in columns]
    for cells in fresh.values():
        for i, cell in enumerate(cells):
            n = cell.cell_len if isinstance(cell, Text) else cell_len(cell)
            if n > widths[i]:
                widths[i] = n
    return PreparedRows(fresh, order, tuple(min(w, MAX_WIDTH) for w in widths))


class LiveTable(ScrollView, can_focus=True):
    """Rows by key; the cursor stays on its row's key when the rows are replaced."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "live-table--header", "live-table--cursor", "live-table--even-row", "live-table--odd-row"}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", show=False),
        Binding("up", "cursor(-1)", show=False),
        Binding("down", "cursor(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "cursor_to(0)", show=False),
        Binding("end", "cursor_to(-1)", show=False),
    ]
    DEFAULT_CSS = """
    LiveTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        &:focus {
            background-tint: $foreground 5%;
            & > .live-table--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .live-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .live-table--header { background: ansi_bright_blue; color: ansi_default; }
        &:ansi > .live-table--cursor { text-style: reverse; }
        & > .live-table--even-row { background: $surface-lighten-1 50%; }
        &:dark > .live-table--even-row { background: $surface-darken-1 40%; }
        & > .live-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
    }
    """

    class RowSelected(Message):
        """Enter, or a click on the row under the cursor."""

        def __init__(self, table: LiveTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LiveTable:
            return self.table

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns = tuple(columns)
        self._rows: dict[str, tuple[Cell, ...]] = {}
        self._order: list[str] = []
        self._widths = [cell_len(c.label) for c in self.columns]
        self.cursor = 0
        self._parsed: dict[str, Style] = {}

    # -- data ---------------------------------------------------------------------------------
    def set_rows(self, rows: Iterable[tuple[str, Sequence[Cell]]],
                 sort_key: Callable[[tuple[Cell, ...]], Any] | None = None, reverse: bool = False) -> None:
        """Replace every row (in the given order, or sorted); the cursor keeps its row."""
        self.show_rows(prepare_rows(self.columns, rows, sort_key, reverse))

    def show_rows(self, prepared: PreparedRows) -> None:
        """Replace every row with rows prepared (in any thread) by :func:`prepare_rows`: a dictionary
        swap, however many rows; the cursor keeps its row."""
        selected, line = self.selected_key, self.cursor - self.scroll_offset.y
        fresh, order = prepared.rows, prepared.order
        self._rows, self._order = fresh, order
        self._widths = list(prepared.widths)
        if selected in fresh:
            self.cursor = order.index(selected)
        self.cursor = max(0, min(self.cursor, len(order) - 1))
        self.virtual_size = Size(sum(self._widths) + 2 * PADDING * len(self._widths), len(order) + 1)
        # the selected row stays on the same screen line, so what Enter, d or n act on stays in view
        self._scroll_top(self.cursor - line)
        self._move(self.cursor)

    def clear(self) -> None:
        self.set_rows(())

    @property
    def row_count(self) -> int:
        return len(self._order)

    def row_keys(self) -> list[str]:
        """Row keys in the order shown."""
        return list(self._order)

    def row(self, key: str) -> tuple[str, ...]:
        """A row as the user reads it."""
        return tuple(c.plain if isinstance(c, Text) else c for c in self._rows[key])

    @property
    def selected_key(self) -> str | None:
        return self._order[self.cursor] if self._order else None

    def select_key(self, key: str) -> None:
        self._move(self._order.index(key))

    # -- keys and mouse -----------------------------------------------------------------------
    def action_cursor(self, step: int) -> None:
        self._move(self.cursor + step)

    def action_page(self, pages: int) -> None:
        self._move(self.cursor + pages * max(1, self.scrollable_content_region.height - 1))

    def action_cursor_to(self, index: int) -> None:
        self._move(index if index >= 0 else len(self._order) - 1)

    def action_select(self) -> None:
        if self._order:
            self.post_message(self.RowSelected(self, self._order[self.cursor]))

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y - 1
        if event.y == 0 or not 0 <= index < len(self._order):
            return
        if index == self.cursor:
            self.action_select()
        else:
            self._move(index)

    def _move(self, index: int) -> None:
        if not self._order:
            return
        self.cursor = max(0, min(index, len(self._order) - 1))
        visible = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        if self.cursor < top:
            self._scroll_top(self.cursor)
        elif self.cursor >= top + visible:
            self._scroll_top(self.cursor - visible + 1)
        self.refresh()

    def _scroll_top(self, top: int) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)
        top = max(0, min(top, len(self._order) - visible))
        if top != self.scroll_offset.y:
            self.scroll_to(y=top, animate=False, immediate=True)

    # -- drawing ------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            style = self.get_component_rich_style("live-table--header")
            cells: Sequence[Cell] = tuple(c.label for c in self.columns)
            return self._strip(cells, style, False, scroll_x, width)
        index = scroll_y + y - 1
        if index >= len(self._order):
            return Strip.blank(width, self.rich_style)
        if index == self.cursor:
            style, own_colours = self.get_component_rich_style("live-table--cursor"), False
        else:
            parity = "even" if index % 2 == 0 else "odd"
            style, own_colours = self.get_component_rich_style(f"live-table--{parity}-row"), True
        return self._strip(self._rows[self._order[index]], style, own_colours, scroll_x, width)

    def _strip(self, cells: Sequence[Cell], style: Style, own_colours: bool, scroll_x: int, width: int) -> Strip:
        segments = []
        for cell, column, size in zip(cells, self.columns, self._widths, strict=True):
            if isinstance(cell, Text):
                text, justify = cell.plain, cell.justify or column.justify
                cell_style = style + self._style(cell.style) if own_colours and cell.style else style
            else:
                text, justify, cell_style = cell, column.justify, style
            segments.append(Segment(_fit(text, size, justify), cell_style))
        return Strip(segments).crop_extend(scroll_x, scroll_x + width, style)

    def _style(self, style: str | Style) -> Style:
        if isinstance(style, Style):
            return style
        parsed = self._parsed.get(style)
        if parsed is None:
            parsed = self._parsed[style] = Style.parse(style)
        return parsed


def _fit(text: str, width: int, justify: Justify) -> str:
    text = text.translate(_CONTROL)  # names come from the cluster: no escape sequences onto the terminal
    length = cell_len(text)
    if length > width:
        text = set_cell_size(text, max(0, width - 1)) + "…"
        length = width
    pad = " " * (width - length)
    body = pad + text if justify == "right" else text + pad
    return " " * PADDING + body + " " * PADDING
