"""Where backups are kept, as a user writes it (``--backup-dir``, a form field; ``[backup] base_path`` is
checked by the config loader with the same rule): every ``scheme://`` this version cannot write to is
refused before anything is created."""

from __future__ import annotations

from pathlib import Path

from kafka_sre_tui.config import unsupported_backup_url
from kafka_sre_tui.engine.errors import ConfigError


def local_backup_dir(text: str, origin: str = "--backup-dir") -> Path:
    """``text`` as a local directory (``~`` expanded); ConfigError for a URL. ``origin`` names where
    the text came from, for the error."""
    problem = unsupported_backup_url(text)
    if problem is not None:
        raise ConfigError(f"{origin} {problem}")
    return Path(text).expanduser()
