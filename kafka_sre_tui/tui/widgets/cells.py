"""Table cells as the user should read them: numbers right-aligned with separators, units attached."""

from __future__ import annotations

from rich.text import Text

from kafka_sre_tui.cli.output import human_bytes


def num(value: int | float | None, unit: str = "") -> Text:
    return Text(number(value, unit), justify="right")


def number(value: int | float | None, unit: str = "") -> str:
    """1,234,567 or 12.5 msg/s; "-" when unknown."""
    if value is None:
        return "-"
    shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
    return f"{shown}{unit}"


def size(value: int | None) -> Text:
    """Bytes in binary units (``3.2 MiB``); "-" when unknown."""
    return Text(human_bytes(value) or "-", justify="right")


def sort_key(cell: object) -> float:
    text = str(cell).replace(",", "").split(" ")[0]
    try:
        return float(text)
    except ValueError:
        return -1.0
