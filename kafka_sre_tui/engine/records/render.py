"""How a key, value or header is shown: text, pretty JSON when it parses, hex otherwise; long ones cut
with their full length kept. Pure functions shared by the CLI and the dashboard."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka_sre_tui.engine.records.model import Record

AUTO, TEXT, JSON, HEX, NULL = "auto", "text", "json", "hex", "null"
FORMATS = (AUTO, TEXT, JSON, HEX)
DEFAULT_MAX_CHARS = 2000
_ALLOWED_CONTROLS = {"\n", "\r", "\t"}


@dataclass(frozen=True)
class Shown:
    format: str  # NULL, TEXT, JSON or HEX: what ``text`` is
    text: str | None  # None for a null
    size: int  # the bytes it came from (0 for null)
    truncated: bool = False


def show(data: bytes | None, fmt: str = AUTO, max_chars: int | None = DEFAULT_MAX_CHARS,
         pretty: bool = True) -> Shown:
    """``fmt`` AUTO: pretty JSON for an object or array, text for printable UTF-8, else hex. TEXT and JSON
    fall back to hex when the bytes are not UTF-8 (or not JSON); HEX always shows hex."""
    if data is None:
        return Shown(NULL, None, 0)
    kind, text = _render(data, fmt, pretty)
    if max_chars is not None and len(text) > max_chars:
        return Shown(kind, text[:max_chars], len(data), truncated=True)
    return Shown(kind, text, len(data))


def _render(data: bytes, fmt: str, pretty: bool) -> tuple[str, str]:
    if fmt == HEX:
        return HEX, data.hex()
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return HEX, data.hex()
    if fmt in (AUTO, JSON):
        parsed = _json(text)
        if parsed is not None and (fmt == JSON or isinstance(parsed, dict | list)):
            return JSON, json.dumps(parsed, indent=2 if pretty else None, ensure_ascii=False)
        if fmt == JSON:
            return HEX, data.hex()
    if fmt == AUTO and not _printable(text):
        return HEX, data.hex()
    return TEXT, text


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _printable(text: str) -> bool:
    return all(c.isprintable() or c in _ALLOWED_CONTROLS for c in text)


def timestamp_text(ms: int) -> str:
    """``2026-11-29T15:20:28.123Z``; Kafka's -1 (no timestamp) stays a number."""
    if ms < 0:
        return str(ms)
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def record_json(record: Record, fmt: str = AUTO, max_chars: int | None = None) -> dict[str, Any]:
    """One record for scripts (snake_case keys; see the README)."""
    key, value = show(record.key, fmt, max_chars, pretty=False), show(record.value, fmt, max_chars, pretty=False)
    headers = [show(v, fmt, max_chars, pretty=False) for _n, v in record.headers]
    return {
        "topic": record.topic, "partition": record.partition, "offset": record.offset,
        "timestamp": timestamp_text(record.timestamp_ms), "timestamp_ms": record.timestamp_ms,
        "timestamp_type": record.timestamp_type,
        "key": key.text, "key_format": key.format, "key_size": key.size,
        "headers": [{"name": name, "value": h.text, "value_format": h.format}
                    for (name, _v), h in zip(record.headers, headers, strict=True)],
        "value": value.text, "value_format": value.format, "value_size": value.size,
        "value_truncated": value.truncated,
    }


def describe(shown: Shown) -> str:
    """One line: ``null``, ``"" (empty)``, or the text with its size (and that it was cut)."""
    if shown.text is None:
        return "null"
    if shown.size == 0:
        return '"" (empty)'
    cut = f", cut at {len(shown.text):,} characters" if shown.truncated else ""
    body = f'"{shown.text}"' if shown.format == TEXT and "\n" not in shown.text else shown.text
    return f"{body}  ({shown.format}, {shown.size:,} B{cut})"
