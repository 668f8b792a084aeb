"""The audit log: one JSON line per write operation (restore, migration, offset commits, cutover
steps, prune, offset resets), appended to a file only its owner can read, including writes that were
refused (a ``read_only`` cluster, active members).

Each line: ``time`` (UTC, ISO 8601), ``user`` and ``host`` (the OS user and host name), ``action``,
``cluster``, ``topic``, ``group``, ``parameters`` (plain values, never secrets), ``result``
(``ok``, ``refused``, ``failed``) and ``error`` (the one-line message, or null). Lines are written with
one ``write`` on a file opened ``O_APPEND``, so concurrent writers never interleave inside a line.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OK, REFUSED, FAILED = "ok", "refused", "failed"


def default_audit_path() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "kafka-sre-tui" / "audit.log"


def audit_path() -> Path:
    """Where entries go: ``$KAFKA_SRE_TUI_AUDIT_LOG`` or the XDG state directory."""
    explicit = os.environ.get("KAFKA_SRE_TUI_AUDIT_LOG")
    return Path(explicit) if explicit else default_audit_path()


def audit(action: str, *, cluster: str, result: str, topic: str | None = None, group: str | None = None,
          parameters: Mapping[str, Any] | None = None, error: str | None = None,
          path: Path | None = None) -> None:
    """Append one entry; the directory is created owner-only (0700) and the file 0600."""
    target = path or audit_path()
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "user": _user(), "host": socket.gethostname(), "action": action, "cluster": cluster,
        "topic": topic, "group": group, "parameters": dict(parameters or {}), "result": result, "error": error,
    }
    line = (json.dumps(entry, default=str, separators=(",", ":")) + "\n").encode()
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def read_audit(path: Path | None = None) -> list[dict[str, Any]]:
    target = path or audit_path()
    if not target.exists():
        return []
    return [json.loads(line) for line in target.read_text().splitlines() if line.strip()]


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
