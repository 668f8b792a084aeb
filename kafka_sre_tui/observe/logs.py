"""The log file: levels, size-based rotation, text or JSON lines, owner-only, secrets redacted.

The dashboard owns the terminal, so everything worth keeping goes to a file: by default
``$XDG_STATE_HOME/kafka-sre-tui/kafka-sre-tui.log`` (``~/.local/state/...``), rotated at 10 MiB,
5 old files kept. Structured fields travel in ``extra={"fields": {...}}``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOGGER = "kafka_sre_tui"
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
FORMATS = ("text", "json")
REDACTED = "***"


def default_log_file() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local/state")
    return Path(state) / "kafka-sre-tui" / "kafka-sre-tui.log"


class Redact(logging.Filter):
    """Replaces every known secret (the configured passwords) wherever it shows up in a line."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            for secret in self.secrets:
                text = text.replace(secret, REDACTED)
            record.msg, record.args = text, None
            fields = getattr(record, "fields", None)
            if fields:
                record.fields = {k: self._clean(v) for k, v in fields.items()}
        return True

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in self.secrets:
                value = value.replace(secret, REDACTED)
        return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {"time": _time(record), "level": record.levelname, "logger": record.name,
               "message": record.getMessage(), **getattr(record, "fields", {})}
        if record.exc_info:
            doc["traceback"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", {})
        extra = " ".join(f"{k}={_text(v)}" for k, v in fields.items())
        line = f"{_time(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        line = f"{line} {extra}" if extra else line
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(path: Path, level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = (),
                  max_bytes: int = MAX_BYTES) -> Path:
    """Send this program's logs to ``path`` (replacing a handler a previous call installed)."""
    from kafka_sre_tui.observe.log_file_handler import OwnerOnlyRotatingFileHandler  # logging.handlers: socket, pickle

    path = path.expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = OwnerOnlyRotatingFileHandler(path, maxBytes=max_bytes, backupCount=BACKUPS, encoding="utf-8")
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(Redact(secrets))
    logger = logging.getLogger(LOGGER)
    for old in [h for h in logger.handlers if isinstance(h, OwnerOnlyRotatingFileHandler)]:
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return path


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if isinstance(value, str) and (" " in text or not text) else text
